import Foundation
import JSONCore

/// One request as `mix2api slo` counts it: the SLO dimensions of an `access` log line
/// (Sources/Host/Observability/AccessLog.swift, written by JSONLogHandler).
public struct AccessEntry: Sendable, Equatable {
    /// Milliseconds since 1970 (UTC), from the line's `ts`.
    public var timeMs: Int64
    public var client: String
    public var stream: Bool
    public var tools: Bool
    public var endReason: String
    public var httpStatus: Int
    public var cut: Bool

    public init(timeMs: Int64, client: String, stream: Bool, tools: Bool, endReason: String, httpStatus: Int, cut: Bool) {
        self.timeMs = timeMs
        self.client = client
        self.stream = stream
        self.tools = tools
        self.endReason = endReason
        self.httpStatus = httpStatus
        self.cut = cut
    }

    /// What one log line turned out to be.
    public enum Line: Sendable, Equatable {
        case access(AccessEntry)
        /// A JSON log line of another kind (start-up, warnings, driver messages…).
        case other
        /// Not a JSON object, or an access line without the fields the SLOs need.
        case garbage(String)
    }

    /// Reads one line. Anything before the first `{` is ignored, so lines from journald or a
    /// container runtime (`<timestamp> <unit>: {...}`) are read too.
    public static func parse(_ line: Substring) -> Line {
        guard let brace = line.firstIndex(of: "{") else {
            return line.allSatisfy(\.isWhitespace) ? .other : .garbage("not a JSON object")
        }
        guard let value = try? JSONParser.parse(Array(line[brace...].utf8)), case .object(let o) = value else {
            return .garbage("not a JSON object")
        }
        guard o["msg"]?.stringValue == "access" else { return .other }
        guard let ts = o["ts"]?.stringValue, let time = Timestamp.parse(ts) else { return .garbage("access line without a valid ts") }
        guard let client = o["client"]?.stringValue, !client.isEmpty else { return .garbage("access line without client") }
        guard let stream = o["stream"]?.boolValue else { return .garbage("access line without stream") }
        guard let endReason = o["end_reason"]?.stringValue, !endReason.isEmpty else { return .garbage("access line without end_reason") }
        // `tools` and `cut` arrived with the metrics; older lines carry their parts.
        let tools = o["tools"]?.boolValue ?? ((o["tools_present"]?.boolValue ?? false) || (o["tool_results"]?.intValue ?? 0) > 0)
        return .access(AccessEntry(
            timeMs: time, client: client, stream: stream, tools: tools, endReason: endReason,
            httpStatus: o["http_status"]?.intValue ?? 0, cut: o["cut"]?.boolValue ?? false))
    }
}

/// RFC 3339 timestamps as mix2api writes them (`2026-11-22T05:28:40.123Z`), offsets allowed.
public enum Timestamp {
    /// Milliseconds since 1970, or nil when `text` is not such a timestamp.
    public static func parse(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        func digits(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var v = 0
            for i in from..<(from + count) {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                v = v * 10 + Int(b[i] - 0x30)
            }
            return v
        }
        guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x74 || b[10] == 0x20, b[13] == 0x3A, b[16] == 0x3A,
            let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2),
            let hour = digits(11, 2), let minute = digits(14, 2), let second = digits(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var millis = 0
        if i < b.count, b[i] == 0x2E {
            i += 1
            var scale = 100
            let start = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                millis += Int(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        var offsetMinutes = 0
        guard i < b.count else { return nil }
        if b[i] == 0x5A || b[i] == 0x7A {
            i += 1
        } else if b[i] == 0x2B || b[i] == 0x2D, let oh = digits(i + 1, 2), i + 3 < b.count, b[i + 3] == 0x3A, let om = digits(i + 4, 2) {
            offsetMinutes = (oh * 60 + om) * (b[i] == 0x2B ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        return seconds * 1000 + Int64(millis)
    }

    /// `2026-11-22T05:28:40.123Z`.
    public static func format(_ ms: Int64) -> String {
        var seconds = time_t(ms >= 0 ? ms / 1000 : (ms - 999) / 1000)
        var t = tm()
        gmtime_r(&seconds, &t)
        let rest = Int32(((ms % 1000) + 1000) % 1000)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, rest)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }
}
