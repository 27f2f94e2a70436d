import Foundation
import Histogram

/// The run's result as JSON (for scripts) and as a table (for people). Latencies in microseconds
/// in JSON, milliseconds in the table.
struct Report {
    let label: String
    let target: String
    let shape: LoadShape
    let stream: Bool
    let pace: String?
    let windowSeconds: Double
    let stats: RunStats

    static let percentiles: [(name: String, value: Double)] = [("p50", 50), ("p90", 90), ("p99", 99), ("p99_9", 99.9)]

    var rps: Double { windowSeconds > 0 ? Double(stats.ok) / windowSeconds : 0 }

    var histograms: [(name: String, histogram: Histogram<UInt64>)] {
        [("headers", stats.headers), ("ttft", stats.ttft), ("first_sent", stats.firstSent), ("first_delay", stats.firstDelay),
         ("gap", stats.gap), ("chunk_delay", stats.chunkDelay), ("total", stats.total)]
    }

    func json() -> [String: Any] {
        var shapeJSON: [String: Any]
        switch shape {
        case .closed(let concurrency, let ramp): shapeJSON = ["mode": "closed", "concurrency": concurrency, "ramp_seconds": ramp]
        case .open(let rate, let maxInFlight): shapeJSON = ["mode": "open", "rate_per_second": rate, "max_in_flight": maxInFlight]
        }
        var latency: [String: Any] = [:]
        for (name, h) in histograms {
            var entry: [String: Any] = ["count": Int(h.totalCount)]
            if h.totalCount > 0 {
                for p in Self.percentiles { entry[p.name] = Int(h.valueAtPercentile(p.value)) }
                entry["max"] = Int(h.max)
                entry["mean"] = (h.mean * 10).rounded() / 10
            }
            latency[name] = entry
        }
        let cut = stats.errors["cut", default: 0]
        return [
            "label": label,
            "url": target,
            "load": shapeJSON,
            "stream": stream,
            "pace": pace ?? NSNull(),
            "window_seconds": windowSeconds,
            "requests": [
                "started": stats.started,
                "ok": stats.ok,
                "errors": stats.errorCount,
                "cut_streams": cut,
                "dropped": stats.dropped,
                "by_kind": stats.errors,
                "problems": stats.problems,
            ] as [String: Any],
            "rps": (rps * 10).rounded() / 10,
            "content_chunks": stats.contentChunks,
            "ok_including_warmup": stats.okAll,
            "content_chunks_including_warmup": stats.contentChunksAll,
            "content_bytes": stats.contentBytes,
            "latency_us": latency,
        ]
    }

    func jsonText() -> String {
        let data = (try? JSONSerialization.data(withJSONObject: json(), options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    func table() -> String {
        var lines: [String] = []
        let shapeText: String
        switch shape {
        case .closed(let c, _): shapeText = "closed loop, \(c) concurrent"
        case .open(let r, _): shapeText = "open loop, \(r) req/s"
        }
        lines.append("\(label): \(target) — \(shapeText), \(stream ? "stream" : "json")\(pace.map { ", pace \($0)" } ?? "")")
        lines.append(String(format: "requests %d started, %d ok, %d errors (%d cut), %d dropped; %.1f ok/s over %.1f s; %d content chunks",
                            stats.started, stats.ok, stats.errorCount, stats.errors["cut", default: 0], stats.dropped, rps, windowSeconds, stats.contentChunks))
        if !stats.errors.isEmpty {
            lines.append("errors: " + stats.errors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            for problem in stats.problems { lines.append("  e.g. \(problem)") }
        }
        lines.append(pad("ms", 12) + ["count", "p50", "p90", "p99", "p99.9", "max"].map { pad($0, 10) }.joined())
        for (name, h) in histograms where h.totalCount > 0 {
            var row = pad(name, 12) + pad(String(h.totalCount), 10)
            for p in Self.percentiles { row += pad(ms(h.valueAtPercentile(p.value)), 10) }
            row += pad(ms(h.max), 10)
            lines.append(row)
        }
        return lines.joined(separator: "\n")
    }

    private func ms(_ micros: UInt64) -> String { String(format: "%.3f", Double(micros) / 1000) }
    private func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }
}
