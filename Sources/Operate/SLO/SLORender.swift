import Foundation
import JSONCore

/// `mix2api slo`'s output: a table for people, or JSON for scripts (`--json`).
public enum SLORender {
    public static func percent(_ v: Double) -> String { String(format: "%.2f%%", v * 100) }

    static func cell(_ kpi: SLOReport.KPI, _ row: SLOReport.Row, _ targets: SLOReport.Targets) -> String {
        guard let v = kpi.value(row.counts) else { return "-" }
        let mark = !row.judged ? "" : (kpi.met(row.counts, targets) == true ? " ok" : " MISS")
        return percent(v) + mark
    }

    public static func table(_ report: SLOReport, window: SLOWindow, windowText: String, tally: AccessLogReader.Tally, inWindow: Int) -> String {
        var out = "window: \(window.since.map(Timestamp.format) ?? "(start)") .. \(window.until.map(Timestamp.format) ?? "(end)") (\(windowText))\n"
        out += "lines: \(tally.lines) read, \(tally.access) access (\(inWindow) in the window), \(tally.other) other, \(tally.garbage) skipped as unreadable\n\n"
        let header = ["client", "requests", "aborts", "failures"] + SLOReport.KPI.allCases.map(\.title)
        var rows: [[String]] = [header]
        for row in report.rows + [report.total] {
            let c = row.counts
            rows.append([row.client, String(c.requests), String(c.aborts), String(c.failures)] + SLOReport.KPI.allCases.map { cell($0, row, report.targets) })
        }
        let widths = header.indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
        for (n, r) in rows.enumerated() {
            if n == rows.count - 1, rows.count > 2 { out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
            out += r.enumerated().map { i, v in i == 0 ? v.padding(toLength: widths[i], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[i] - v.count) + v }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }
        let t = report.targets
        out += "\ntargets: request success >= \(percent(t.requestSuccess)), tool-loop success >= \(percent(t.toolLoopSuccess)), "
        out += "cut-stream rate <= \(percent(t.cutStreamRate)), attribution >= \(percent(t.attribution)) (client aborts excluded)\n"
        let misses = report.misses
        if misses.isEmpty {
            out += "result: all targets met\n"
        } else {
            out += "result: MISSED: " + misses.map { "\($0.client) \($0.kpi.title) \(percent($0.value))" }.joined(separator: "; ") + "\n"
        }
        return out
    }

    public static func json(_ report: SLOReport, window: SLOWindow, tally: AccessLogReader.Tally, inWindow: Int) -> String {
        func row(_ r: SLOReport.Row) -> JSONValue {
            let c = r.counts
            var kpis = JSONObject()
            for kpi in SLOReport.KPI.allCases {
                var k = JSONObject([("target", .number(String(kpi.target(report.targets))))])
                k["value"] = kpi.value(c).map { .number(String($0)) } ?? .null
                k["met"] = kpi.met(c, report.targets).map { .bool($0) } ?? .null
                kpis[kpi.rawValue] = .object(k)
            }
            return .object(JSONObject([
                ("client", .string(r.client)), ("judged", .bool(r.judged)),
                ("requests", int(c.requests)), ("client_aborts", int(c.aborts)), ("ok", int(c.ok)), ("failures", int(c.failures)),
                ("unknown", int(c.unknown)), ("tool_requests", int(c.toolRequests)), ("tool_client_aborts", int(c.toolAborts)), ("tool_ok", int(c.toolOK)),
                ("stream_requests", int(c.streams)), ("stream_client_aborts", int(c.streamAborts)), ("cuts", int(c.cuts)),
                ("kpis", .object(kpis)),
            ]))
        }
        let doc: JSONValue = .object(JSONObject([
            ("window", .object(JSONObject([
                ("since", window.since.map { .string(Timestamp.format($0)) } ?? .null), ("until", window.until.map { .string(Timestamp.format($0)) } ?? .null),
            ]))),
            ("lines", .object(JSONObject([
                ("read", int(tally.lines)), ("access", int(tally.access)), ("in_window", int(inWindow)), ("other", int(tally.other)), ("unreadable", int(tally.garbage)),
            ]))),
            ("clients", .array(report.rows.map(row))),
            ("total", row(report.total)),
            ("passed", .bool(report.passed)),
            ("misses", .array(report.misses.map { .object(JSONObject([("client", .string($0.client)), ("kpi", .string($0.kpi.rawValue)), ("value", .number(String($0.value)))])) })),
        ]))
        var out: [UInt8] = []
        JSONWriter.append(doc, to: &out)
        return String(decoding: out, as: UTF8.self) + "\n"
    }

    private static func int(_ v: Int) -> JSONValue { .number(String(v)) }
}
