import ArgumentParser
import Foundation
import Operate

/// `mix2api slo`: the four KPIs per client from JSON access logs, for teams without Prometheus.
struct SLOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slo",
        abstract: "Compute the SLO KPIs per client from mix2api's JSON access log.",
        discussion: """
            Reads the JSON log lines mix2api writes on stdout (files, or stdin when none or "-"), keeps the \
            `access` lines in the window, and prints request success, tool-loop success, cut-stream rate and \
            attribution per client (client aborts excluded). Exit status: 0 when every KPI meets its target, \
            1 when one misses, 2 when the input cannot be used.
            """)

    @Argument(help: "Log files to read (default: stdin; \"-\" is stdin).") var files: [String] = []
    @Option(help: "Window back from the newest access line: 90s, 30m, 24h, 7d.") var window: String?
    @Option(help: "Start of the window (RFC 3339, e.g. 2026-11-22T00:00:00Z).") var since: String?
    @Option(help: "End of the window (RFC 3339).") var until: String?
    @Flag(help: "Print JSON instead of the table.") var json = false
    @Option(help: "Target: request success at least this (0–1).") var targetSuccess = 0.99
    @Option(help: "Target: tool-loop success at least this (0–1).") var targetToolLoop = 0.97
    @Option(help: "Target: cut-stream rate at most this (0–1).") var maxCutRate = 0.005
    @Option(help: "Target: attribution at least this (0–1).") var targetAttribution = 0.99
    @Option(help: "Judge a client only with at least this many requests (client aborts excluded).") var minRequests = 1

    func validate() throws {
        if window != nil, since != nil || until != nil { throw ValidationError("--window: use either --window or --since/--until, not both") }
        if let window, SLOWindow.parseDuration(window) == nil { throw ValidationError("--window: expected a duration like 90s, 30m, 24h or 7d, got \"\(window)\"") }
        if let since, Timestamp.parse(since) == nil { throw ValidationError("--since: expected an RFC 3339 time like 2026-11-22T00:00:00Z, got \"\(since)\"") }
        if let until, Timestamp.parse(until) == nil { throw ValidationError("--until: expected an RFC 3339 time like 2026-11-22T00:00:00Z, got \"\(until)\"") }
        for (name, v) in [("--target-success", targetSuccess), ("--target-tool-loop", targetToolLoop), ("--max-cut-rate", maxCutRate), ("--target-attribution", targetAttribution)] {
            guard v.isFinite, (0...1).contains(v) else { throw ValidationError("\(name): must be a fraction from 0 to 1, got \(v)") }
        }
        if minRequests < 1 { throw ValidationError("--min-requests: must be at least 1, got \(minRequests)") }
    }

    func run() throws {
        var reader = AccessLogReader()
        do {
            for path in files.isEmpty ? ["-"] : files { try reader.read(path: path) }
        } catch {
            FileHandle.standardError.write(Data("mix2api slo: \(error)\n".utf8))
            throw ExitCode(2)
        }
        guard reader.tally.access > 0 else {
            FileHandle.standardError.write(Data("mix2api slo: no access lines in \(reader.tally.lines) line(s) read (is this mix2api's JSON stdout?)\n".utf8))
            throw ExitCode(2)
        }
        let span: SLOWindow
        let windowText: String
        if let window {
            span = SLOWindow.relative(SLOWindow.parseDuration(window)!, newest: reader.entries.map(\.timeMs).max())
            windowText = "\(window) back from the newest access line"
        } else {
            span = SLOWindow(since: since.flatMap(Timestamp.parse), until: until.flatMap(Timestamp.parse))
            windowText = since == nil && until == nil ? "the whole log" : "--since/--until"
        }
        let inWindow = reader.entries.filter { span.contains($0.timeMs) }
        var targets = SLOReport.Targets()
        targets.requestSuccess = targetSuccess
        targets.toolLoopSuccess = targetToolLoop
        targets.cutStreamRate = maxCutRate
        targets.attribution = targetAttribution
        let report = SLOReport(entries: inWindow, targets: targets, minRequests: minRequests)
        print(json
            ? SLORender.json(report, window: span, tally: reader.tally, inWindow: inWindow.count)
            : SLORender.table(report, window: span, windowText: windowText, tally: reader.tally, inWindow: inWindow.count), terminator: "")
        if !report.passed { throw ExitCode(1) }
    }
}
