import Foundation
import Logging
import Prometheus
import Testing
@testable import Host

/// The metrics contract's series, recorded from access records into a registry of the test's own
/// and read back from the text exposition.
@Suite struct MetricsTests {
    static func exposition(_ m: HostMetrics) -> String { String(decoding: m.exposition(), as: UTF8.self) }

    /// The value of one series line, labels given in the order the host writes them.
    static func value(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    static func record(_ edit: (inout AccessRecord) -> Void) -> AccessRecord {
        var r = AccessRecord(requestID: "r", route: "chat_completions")
        r.client = .opencode
        r.stream = true
        edit(&r)
        return r
    }

    @Test func oneRequestCountsOnceWithEveryLabel() {
        let m = HostMetrics()
        let r = Self.record {
            $0.endReason = .ok
            $0.toolsPresent = true
            $0.toolCalls = 2
            $0.toolResults = 1
            $0.sseStarted = true
            $0.terminalSent = true
            $0.ttfbMs = 12
            $0.durationMs = 340
        }
        RequestOutcome.record(r, into: m)
        let text = Self.exposition(m)
        #expect(Self.value(text, #"mix2api_requests_total{route="chat_completions",client="opencode",stream="true",tools="true",end_reason="ok",status="200"}"#) == 1)
        #expect(Self.value(text, #"mix2api_tool_calls_emitted_total{route="chat_completions",client="opencode"}"#) == 2)
        #expect(Self.value(text, #"mix2api_tool_results_received_total{route="chat_completions",client="opencode"}"#) == 1)
        #expect(Self.value(text, #"mix2api_request_ttfb_seconds_count{route="chat_completions",client="opencode",stream="true"}"#) == 1)
        #expect(Self.value(text, #"mix2api_request_ttfb_seconds_bucket{route="chat_completions",client="opencode",stream="true",le="0.01"}"#) == 0)
        #expect(Self.value(text, #"mix2api_request_ttfb_seconds_bucket{route="chat_completions",client="opencode",stream="true",le="0.025"}"#) == 1)
        #expect(Self.value(text, #"mix2api_request_duration_seconds_sum{route="chat_completions",client="opencode",stream="true"}"#) == 0.34)
        #expect(!text.contains("mix2api_stream_cuts_total{"), "an ok stream is no cut")
        #expect(Self.value(text, #"mix2api_streams_unterminated_total{route="chat_completions",client="opencode"}"#) == 0)
        #expect(Self.value(text, #"mix2api_build_info{version="\#(BuildInfo.version)"}"#) == 1)
        #expect(!text.contains("\"r\""), "the request id is never a label")
    }

    @Test func cutAndUnterminatedAreExclusiveAndAbortsAreNeither() {
        // Started, error chunk written: a cut.
        let cut = Self.record { $0.endReason = .upstreamError; $0.httpStatus = 200; $0.sseStarted = true; $0.terminalSent = true }
        #expect(cut.streamCut && !cut.unterminated && cut.cut)
        // Started, nothing terminal reached the socket: unterminated, whatever the reason.
        let silent = Self.record { $0.endReason = .ok; $0.sseStarted = true; $0.terminalSent = false }
        #expect(!silent.streamCut && silent.unterminated && silent.cut)
        let silentError = Self.record { $0.endReason = .timeout; $0.sseStarted = true; $0.terminalSent = false }
        #expect(!silentError.streamCut && silentError.unterminated)
        // The client left: never a cut.
        let abort = Self.record { $0.endReason = .clientAbort; $0.httpStatus = 200; $0.sseStarted = true; $0.terminalSent = false }
        #expect(!abort.cut)
        // Failed before the headers: a real HTTP error, no cut.
        let early = Self.record { $0.endReason = .upstreamError; $0.httpStatus = 502 }
        #expect(!early.cut)
        // Not streamed: never a cut.
        let json = Self.record { $0.stream = false; $0.endReason = .timeout; $0.sseStarted = false }
        #expect(!json.cut)

        let m = HostMetrics()
        for r in [cut, silent, abort, early] { RequestOutcome.record(r, into: m) }
        let text = Self.exposition(m)
        #expect(Self.value(text, #"mix2api_stream_cuts_total{route="chat_completions",client="opencode",end_reason="upstream_error"}"#) == 1)
        #expect(Self.value(text, #"mix2api_streams_unterminated_total{route="chat_completions",client="opencode"}"#) == 1)
        #expect(Self.value(text, #"mix2api_requests_total{route="chat_completions",client="opencode",stream="true",tools="false",end_reason="client_abort",status="200"}"#) == 1)
        #expect(Self.value(text, #"mix2api_requests_total{route="chat_completions",client="opencode",stream="true",tools="false",end_reason="upstream_error",status="502"}"#) == 1)
    }

    @Test func aRecordNobodyClassifiedIsUnknown() {
        let m = HostMetrics()
        let r = AccessRecord(requestID: "x", route: "messages")
        #expect(r.endReason == .unknown)
        RequestOutcome.record(r, into: m)
        #expect(Self.value(Self.exposition(m), #"mix2api_requests_total{route="messages",client="other",stream="false",tools="false",end_reason="unknown",status="200"}"#) == 1)
    }

    @Test func accessLineCarriesCutAndTools() {
        let logs = LogCapture()
        let m = HostMetrics()
        Self.record { $0.endReason = .timeout; $0.toolResults = 1; $0.sseStarted = true; $0.terminalSent = true }.write(to: logs.logger, metrics: m)
        let line = logs.accessLines().last!
        #expect(line["cut"] == "true")
        #expect(line["tools"] == "true")
        #expect(line["end_reason"] == "timeout")
        #expect(Self.value(Self.exposition(m), #"mix2api_stream_cuts_total{route="chat_completions",client="opencode",end_reason="timeout"}"#) == 1)
    }

    @Test func driverCountersAreExportedWithTheDriverLabelAndBounded() {
        let m = HostMetrics()
        let counters = DriverCounters(driver: "site", metrics: m)
        counters.add("site_logins", 1)
        counters.add("site_logins", 2)
        counters.add("Bad-Name", 1)
        counters.add("events", 1)
        for i in 0..<100 { counters.add("n\(i)", 1) }
        let text = Self.exposition(m)
        #expect(Self.value(text, #"mix2api_driver_site_logins_total{driver="site"}"#) == 3)
        #expect(!text.contains("Bad-Name"))
        #expect(!text.contains(#"mix2api_driver_events_total{driver="site"}"#), "the host's own series name is reserved")
        #expect(counters.snapshot.count == DriverCounters.maxNames)
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("mix2api_driver_n") }.count == DriverCounters.maxNames - 1)
    }

    @Test func driverEventsByKind() {
        let m = HostMetrics()
        let counters = DriverEventCounters(driver: "mock", metrics: m)
        for e: DriverEvent in [.text("a"), .text("b"), .reasoning("r"), .toolCallStart(index: 0, id: "i", name: "n"), .usage(prompt: 1, completion: 1), .finish(.stop)] {
            counters.count(e)
        }
        let text = Self.exposition(m)
        #expect(Self.value(text, #"mix2api_driver_events_total{driver="mock",kind="delta"}"#) == 2)
        #expect(Self.value(text, #"mix2api_driver_events_total{driver="mock",kind="tool_call"}"#) == 1)
        #expect(Self.value(text, #"mix2api_driver_events_total{driver="mock",kind="finish"}"#) == 1)
        #expect(Self.value(text, #"mix2api_driver_events_total{driver="mock",kind="error"}"#) == 0)
    }

    /// A store whose answers the test chooses.
    final class ScriptedStore: StateStore, @unchecked Sendable {
        var fail = false
        var degradedReason: String?
        func get(_ key: String) -> Result<String?, StateStoreError> { fail ? .failure(.init(message: "down")) : .success(key == "k" ? "v" : nil) }
        func set(_ key: String, _ value: String, ttlMilliseconds: UInt64) -> Bool { !fail }
        func delete(_ key: String) -> Bool { !fail }
        func lock(_ key: String, ttlMilliseconds: UInt64) -> Result<String?, StateStoreError> { fail ? .failure(.init(message: "down")) : .success(key == "busy" ? nil : "t") }
        func unlock(_ key: String, token: String) -> Bool { !fail }
    }

    @Test func stateOperationsByResultAndDegradedGauge() {
        let m = HostMetrics()
        let inner = ScriptedStore()
        let store = MeteredStateStore(inner, metrics: m)
        _ = store.get("k")
        _ = store.get("missing")
        _ = store.set("k", "v", ttlMilliseconds: 1)
        _ = store.lock("busy", ttlMilliseconds: 1)
        _ = store.lock("free", ttlMilliseconds: 1)
        inner.fail = true
        _ = store.get("k")
        _ = store.unlock("free", token: "t")
        m.refresh(state: store)
        var text = Self.exposition(m)
        #expect(Self.value(text, #"mix2api_state_operations_total{op="get",result="hit"}"#) == 1)
        #expect(Self.value(text, #"mix2api_state_operations_total{op="get",result="miss"}"#) == 1)
        #expect(Self.value(text, #"mix2api_state_operations_total{op="get",result="error"}"#) == 1)
        #expect(Self.value(text, #"mix2api_state_operations_total{op="set",result="ok"}"#) == 1)
        #expect(Self.value(text, #"mix2api_state_operations_total{op="lock",result="busy"}"#) == 1)
        #expect(Self.value(text, #"mix2api_state_operations_total{op="lock",result="ok"}"#) == 1)
        #expect(Self.value(text, #"mix2api_state_operations_total{op="unlock",result="error"}"#) == 1)
        #expect(Self.value(text, #"mix2api_state_operations_total{op="delete",result="ok"}"#) == 0)
        #expect(Self.value(text, "mix2api_state_degraded") == 0)
        inner.degradedReason = "redis unreachable"
        m.refresh(state: store)
        text = Self.exposition(m)
        #expect(Self.value(text, "mix2api_state_degraded") == 1)
    }

    @Test func inFlightGaugeFollowsTheStreams() {
        let m = HostMetrics()
        let flights = InFlightStreams(gauge: m.streamsInFlight)
        let a = EventSink(requestID: "a"), b = EventSink(requestID: "b")
        flights.add(a)
        flights.add(b)
        #expect(Self.value(Self.exposition(m), "mix2api_streams_in_flight") == 2)
        flights.remove(a)
        flights.remove(a)
        #expect(Self.value(Self.exposition(m), "mix2api_streams_in_flight") == 1)
        flights.remove(b)
        #expect(Self.value(Self.exposition(m), "mix2api_streams_in_flight") == 0)
    }
}
