import Foundation
import Testing
@testable import Host
@testable import Operate

/// The gate reads mix2api's own exposition: what the host writes, the gate parses back.
@Suite struct GateEvidenceTests {
    @Test func theHostsExpositionParsesBack() {
        let m = HostMetrics()
        var r = AccessRecord(requestID: "x", route: "chat_completions")
        r.client = .claudeCode
        r.endReason = .clientAbort
        r.httpStatus = 499
        r.stream = true
        RequestOutcome.record(r, into: m)
        r.endReason = .ok
        r.httpStatus = 200
        RequestOutcome.record(r, into: m)
        RequestOutcome.record(r, into: m)
        let snapshot = MetricsSnapshot(text: String(decoding: m.exposition(), as: UTF8.self))
        #expect(snapshot.sum("mix2api_requests_total") == 3)
        #expect(snapshot.sum("mix2api_requests_total", ["end_reason": "client_abort"]) == 1)
        #expect(snapshot.sum("mix2api_requests_total", ["end_reason": "ok", "client": "claude-code", "stream": "true"]) == 2)
        #expect(snapshot.sum("mix2api_requests_total", ["end_reason": "ok", "client": "opencode"]) == 0)
        #expect(snapshot.sum("mix2api_streams_in_flight") == 0 && snapshot.has("mix2api_streams_in_flight"))
        #expect(snapshot.sum("mix2api_request_duration_seconds_count", ["client": "claude-code"]) == 3)
    }

    @Test func escapedLabelValues() {
        let s = MetricsSnapshot(text: #"a_total{x="q\"uote",y="b\\s"} 2"# + "\n# HELP a_total h\nb 1.5\n")
        #expect(s.sum("a_total", ["x": "q\"uote", "y": "b\\s"]) == 2)
        #expect(s.sum("b") == 1.5)
    }
}
