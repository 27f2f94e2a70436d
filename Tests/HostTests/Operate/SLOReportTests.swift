import Foundation
import Testing
@testable import Operate

/// The KPIs from access lines, exactly as the metrics contract defines them.
@Suite struct SLOReportTests {
    static func line(_ ts: String, client: String = "opencode", stream: Bool = true, tools: Bool = false, reason: String = "ok", cut: Bool = false) -> String {
        #"{"ts":"\#(ts)","level":"info","msg":"access","request_id":"r","route":"chat_completions","client":"\#(client)","stream":\#(stream),"tools":\#(tools),"tools_present":\#(tools),"tool_results":0,"end_reason":"\#(reason)","http_status":200,"cut":\#(cut)}"#
    }

    @Test func kpisExcludeClientAbortsEverywhere() {
        var reader = AccessLogReader()
        let t = "2026-11-22T05:00:00.000Z"
        var lines: [String] = []
        lines += Array(repeating: Self.line(t), count: 96)
        lines += Array(repeating: Self.line(t, reason: "client_abort"), count: 10)
        lines += [Self.line(t, reason: "upstream_error", cut: true), Self.line(t, reason: "timeout", cut: true)]
        lines += [Self.line(t, stream: false, reason: "unknown"), Self.line(t, stream: false, reason: "adapter_error")]
        lines += [Self.line(t, tools: true), Self.line(t, tools: true, reason: "adapter_error"), Self.line(t, tools: true, reason: "client_abort")]
        lines += ["not json at all", #"{"msg":"starting","ts":"\#(t)"}"#, #"{"msg":"access","ts":"\#(t)"}"#, "Nov 22 mix2api[1]: " + Self.line(t, client: "claude-code")]
        reader.read(text: lines.joined(separator: "\n"))
        #expect(reader.tally.lines == lines.count)
        #expect(reader.tally.other == 1)
        #expect(reader.tally.garbage == 2)
        #expect(reader.tally.access == lines.count - 3)

        let report = SLOReport(entries: reader.entries)
        let oc = report.rows.first { $0.client == "opencode" }!.counts
        // 96 + 2 cut + 2 non-stream + 3 tools (one abort) + 10 aborts
        #expect(oc.requests == 113)
        #expect(oc.aborts == 11)
        #expect(oc.requestSuccess == 97.0 / 102.0)
        #expect(oc.toolLoopSuccess == 1.0 / 2.0)
        #expect(oc.cutStreamRate == 2.0 / 100.0)  // 111 streams, 11 of them aborted; non-streams excluded
        #expect(oc.attribution == 1 - 1.0 / 5.0)
        #expect(report.rows.map(\.client) == ["opencode", "claude-code"])
        #expect(!report.passed)
        let missed = Set(report.misses.filter { $0.client == "opencode" }.map(\.kpi))
        #expect(missed == [.requestSuccess, .toolLoopSuccess, .cutStreamRate, .attribution])
        let cc = report.rows.first { $0.client == "claude-code" }!.counts
        #expect(cc.requestSuccess == 1 && cc.attribution == 1 && cc.toolLoopSuccess == nil)
    }

    @Test func attributionIsOneWithoutFailuresAndTargetsAreOverridable() {
        let entries = (0..<50).map { AccessEntry(timeMs: Int64($0), client: "new-api", stream: true, tools: false, endReason: $0 == 0 ? "rate_limited" : "ok", httpStatus: 200, cut: false) }
        var targets = SLOReport.Targets()
        #expect(!SLOReport(entries: entries, targets: targets).passed, "49/50 = 98% misses 99%")
        targets.requestSuccess = 0.98
        let report = SLOReport(entries: entries, targets: targets)
        #expect(report.passed)
        #expect(report.total.counts.attribution == 1)
        #expect(SLOReport(entries: entries.filter { $0.endReason == "ok" }).total.counts.attribution == 1)
        #expect(SLOReport(entries: entries, minRequests: 51).passed, "too few requests to judge")
    }

    @Test func windowsAndTimestamps() {
        #expect(Timestamp.parse("1970-01-01T00:00:01.500Z") == 1500)
        #expect(Timestamp.parse("2026-11-22T05:28:40.123Z") == 1_795_325_320_123)
        #expect(Timestamp.parse("2026-11-22T07:28:40.123+02:00") == 1_795_325_320_123)
        #expect(Timestamp.parse("2026-11-22 05:28:40Z") == 1_795_325_320_000)
        #expect(Timestamp.parse("yesterday") == nil)
        #expect(Timestamp.format(1_795_325_320_123) == "2026-11-22T05:28:40.123Z")
        #expect(SLOWindow.parseDuration("24h") == 86_400_000)
        #expect(SLOWindow.parseDuration("1h30m") == 5_400_000)
        #expect(SLOWindow.parseDuration("7d") == 604_800_000)
        #expect(SLOWindow.parseDuration("15") == nil)
        #expect(SLOWindow.parseDuration("0h") == nil)
        #expect(SLOWindow.parseDuration("h") == nil)
        let w = SLOWindow.relative(3_600_000, newest: 10_000_000)
        #expect(w.contains(6_400_000) && w.contains(10_000_000) && !w.contains(6_399_999))
    }

    @Test func olderLinesWithoutToolsOrCutAreRead() {
        let old = #"{"ts":"2026-11-22T05:00:00.000Z","msg":"access","client":"other","stream":false,"tools_present":false,"tool_results":2,"end_reason":"ok","http_status":200}"#
        guard case .access(let e) = AccessEntry.parse(Substring(old)) else {
            Issue.record("not read as an access line")
            return
        }
        #expect(e.tools)
        #expect(!e.cut)
    }
}
