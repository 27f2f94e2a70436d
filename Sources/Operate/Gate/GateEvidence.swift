import Foundation
import JSONCore

/// What the deployment itself says about the gate's requests, when the caller gives a way to see
/// it: the Prometheus exposition (`--metrics-url`) or mix2api's access log (`--access-log`).
struct MetricsSnapshot: Sendable {
    struct Sample: Sendable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    let samples: [Sample]

    /// Parses the text exposition format (comments skipped; label values unescaped).
    init(text: String) {
        var out: [Sample] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space].trimmingCharacters(in: .whitespaces)
            guard let open = series.firstIndex(of: "{") else {
                out.append(Sample(name: series, labels: [:], value: value))
                continue
            }
            let name = String(series[..<open])
            var labels: [String: String] = [:]
            var rest = series[series.index(after: open)...]
            while let eq = rest.firstIndex(of: "=") {
                let key = rest[..<eq].trimmingCharacters(in: CharacterSet(charactersIn: ", "))
                var i = rest.index(after: eq)
                guard i < rest.endIndex, rest[i] == "\"" else { break }
                i = rest.index(after: i)
                var v = ""
                while i < rest.endIndex, rest[i] != "\"" {
                    if rest[i] == "\\", rest.index(after: i) < rest.endIndex {
                        i = rest.index(after: i)
                        v.append(rest[i] == "n" ? "\n" : rest[i])
                    } else {
                        v.append(rest[i])
                    }
                    i = rest.index(after: i)
                }
                labels[key] = v
                rest = i < rest.endIndex ? rest[rest.index(after: i)...] : ""
            }
            out.append(Sample(name: name, labels: labels, value: value))
        }
        samples = out
    }

    /// The sum of `name` over the series whose labels include `matching`.
    func sum(_ name: String, _ matching: [String: String] = [:]) -> Double {
        samples.filter { s in s.name == name && matching.allSatisfy { k, v in s.labels[k] == v } }.reduce(0) { $0 + $1.value }
    }

    func has(_ name: String) -> Bool { samples.contains { $0.name == name } }
}

/// mix2api's access lines by request id, from a log file the gate can read.
struct AccessLogLookup: Sendable {
    let path: String

    /// The access line of `requestIDs` (the first id that has one), waiting up to `wait` for it
    /// to be written (it is written when the answer ends).
    func line(for requestIDs: [String], wait: Duration = .seconds(5)) async -> JSONObject? {
        let deadline = ContinuousClock.now + wait
        while true {
            if let found = scan(requestIDs) { return found }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    private func scan(_ ids: [String]) -> JSONObject? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        for line in text.split(separator: "\n").reversed() where ids.contains(where: { line.contains($0) }) {
            guard let brace = line.firstIndex(of: "{"), case .object(let o)? = try? JSONParser.parse(Array(line[brace...].utf8)) else { continue }
            if o["msg"]?.stringValue == "access", let rid = o["request_id"]?.stringValue, ids.contains(rid) { return o }
        }
        return nil
    }
}
