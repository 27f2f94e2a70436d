import Foundation

/// Reads JSON log lines from files or stdin, keeps the access entries and counts the rest.
public struct AccessLogReader: Sendable {
    public struct Tally: Sendable, Equatable {
        public var lines = 0
        public var access = 0
        public var other = 0
        public var garbage = 0
        public init() {}
    }

    public struct Unreadable: Error, CustomStringConvertible {
        public let description: String
    }

    public private(set) var entries: [AccessEntry] = []
    public private(set) var tally = Tally()

    public init() {}

    /// `-` is stdin.
    public mutating func read(path: String) throws(Unreadable) {
        let handle: FileHandle
        if path == "-" {
            handle = .standardInput
        } else {
            guard let h = FileHandle(forReadingAtPath: path) else { throw Unreadable(description: "\(path): cannot open the file") }
            handle = h
        }
        defer { if path != "-" { try? handle.close() } }
        var pending: [UInt8] = []
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch { throw Unreadable(description: "\(path): \(error.localizedDescription)") }
            if chunk.isEmpty { break }
            pending += chunk
            var start = 0
            while let nl = pending[start...].firstIndex(of: 0x0A) {
                add(pending[start..<nl])
                start = nl + 1
            }
            pending.removeFirst(start)
        }
        if !pending.isEmpty { add(pending[...]) }
    }

    public mutating func read(text: String) {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) { add(Array(line.utf8)[...]) }
    }

    private mutating func add(_ bytes: ArraySlice<UInt8>) {
        var line = String(decoding: bytes, as: UTF8.self)
        if line.hasSuffix("\r") { line.removeLast() }
        if line.allSatisfy(\.isWhitespace) { return }
        tally.lines += 1
        switch AccessEntry.parse(Substring(line)) {
        case .access(let e):
            tally.access += 1
            entries.append(e)
        case .other: tally.other += 1
        case .garbage: tally.garbage += 1
        }
    }
}

/// Which part of the log the KPIs cover: `--window` back from the newest access line, or
/// `--since` / `--until` (either may be open).
public struct SLOWindow: Sendable, Equatable {
    public var since: Int64?
    public var until: Int64?

    public init(since: Int64?, until: Int64?) {
        self.since = since
        self.until = until
    }

    /// `--window 24h` ending at the newest entry's time (inclusive at both ends).
    public static func relative(_ durationMs: Int64, newest: Int64?) -> SLOWindow {
        guard let newest else { return SLOWindow(since: nil, until: nil) }
        return SLOWindow(since: newest - durationMs, until: newest)
    }

    public func contains(_ timeMs: Int64) -> Bool {
        (since.map { timeMs >= $0 } ?? true) && (until.map { timeMs <= $0 } ?? true)
    }

    /// `90s`, `30m`, `24h`, `7d` (also `1h30m`) in milliseconds; nil when unreadable or zero.
    public static func parseDuration(_ text: String) -> Int64? {
        var total: Int64 = 0
        var number: Int64?
        var any = false
        for ch in text.lowercased() {
            if let d = ch.wholeNumberValue, ch.isASCII {
                number = (number ?? 0) * 10 + Int64(d)
                guard number! < 1_000_000_000 else { return nil }
                continue
            }
            guard let n = number else { return nil }
            switch ch {
            case "s": total += n * 1000
            case "m": total += n * 60_000
            case "h": total += n * 3_600_000
            case "d": total += n * 86_400_000
            default: return nil
            }
            number = nil
            any = true
        }
        guard number == nil, any, total > 0 else { return nil }
        return total
    }
}
