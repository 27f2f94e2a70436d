#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The timed answer the benchmark asks the upstreams for: `[[pace:ttft_ms=50,chunks=100,gap_ms=20,chunk_bytes=32]]`
/// anywhere in the last user message. The site simulator (site protocol and its direct OpenAI
/// route) and the mock driver's `mock-paced` scenario answer it on this fixed schedule, and stamp
/// every chunk's text with its sequence number and the wall-clock microsecond it was sent, so
/// `mix2api-bench` can measure, per chunk, the delay added on the way to the client.
public struct PaceSpec: Sendable, Equatable {
    /// Silence before the first chunk, from when the upstream received the request.
    public var ttftMs: Int = 0
    /// How many stamped chunks the answer has.
    public var chunks: Int = 20
    /// Silence between two chunks.
    public var gapMs: Int = 0
    /// Length of each chunk's text in bytes; a stamp longer than this is sent whole.
    public var chunkBytes: Int = 0

    public static let markerOpen: StaticString = "[[pace:"
    /// Bounds that keep one request from asking an upstream for unbounded work.
    public static let maxChunks = 1_000_000
    public static let maxChunkBytes = 65_536
    public static let maxMs = 600_000

    public init(ttftMs: Int = 0, chunks: Int = 20, gapMs: Int = 0, chunkBytes: Int = 0) {
        self.ttftMs = ttftMs
        self.chunks = chunks
        self.gapMs = gapMs
        self.chunkBytes = chunkBytes
    }

    /// The marker that asks for this answer.
    public var marker: String { "[[pace:ttft_ms=\(ttftMs),chunks=\(chunks),gap_ms=\(gapMs),chunk_bytes=\(chunkBytes)]]" }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// The spec of the first marker in `text`; nil when there is none. A marker with an unknown
    /// field or a value out of range is an error naming the field, so a typo never silently
    /// benchmarks some other schedule.
    public static func find(in text: String) throws(Invalid) -> PaceSpec? {
        guard let open = MarkerSearch.firstRange(of: markerOpen, in: text[...]) else { return nil }
        let rest = text[open.upperBound...]
        guard let close = MarkerSearch.firstRange(of: "]]", in: rest) else { throw Invalid(description: "pace marker: missing ']]'") }
        var spec = PaceSpec()
        for field in rest[..<close.lowerBound].split(separator: ",") {
            let pair = field.split(separator: "=", maxSplits: 1)
            let name = pair.first.map { String($0).trimmed } ?? ""
            guard pair.count == 2, let value = Int(String(pair[1]).trimmed), value >= 0 else {
                throw Invalid(description: "pace marker: \(name.isEmpty ? "field" : name) must be name=non-negative integer")
            }
            switch name {
            case "ttft_ms": spec.ttftMs = try bounded(value, name, maxMs)
            case "chunks": spec.chunks = try bounded(value, name, maxChunks)
            case "gap_ms": spec.gapMs = try bounded(value, name, maxMs)
            case "chunk_bytes": spec.chunkBytes = try bounded(value, name, maxChunkBytes)
            default: throw Invalid(description: "pace marker: unknown field '\(name)' (known: ttft_ms, chunks, gap_ms, chunk_bytes)")
            }
        }
        return spec
    }

    private static func bounded(_ value: Int, _ name: String, _ limit: Int) throws(Invalid) -> Int {
        guard value <= limit else { throw Invalid(description: "pace marker: \(name) must be at most \(limit)") }
        return value
    }

    /// When chunk `seq` is due, in milliseconds after the request arrived.
    public func dueMs(_ seq: Int) -> Int { ttftMs + seq * gapMs }
}

/// The text of one stamped chunk: `~<seq>@<wall µs>~` followed by filler letters up to the
/// chunk's size. The filler depends on the sequence number and position, so a byte lost,
/// repeated or reordered on the way is visible to the reader.
public enum ChunkStamp {
    public static let mark = UInt8(ascii: "~")
    public static let at = UInt8(ascii: "@")

    /// Wall clock in microseconds (CLOCK_REALTIME): comparable between processes on one machine.
    public static func nowMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000
    }

    /// The filler byte at `position` (0 = right after the stamp) of chunk `seq`.
    @inline(__always)
    public static func filler(seq: Int, position: Int) -> UInt8 { UInt8(ascii: "a") &+ UInt8((seq &+ position) % 26) }

    /// Chunk `seq` stamped now (or at `micros`), `size` bytes long unless the stamp is longer.
    public static func text(seq: Int, size: Int, micros: Int64 = nowMicros()) -> String {
        var bytes: [UInt8] = [mark]
        appendDecimal(seq, to: &bytes)
        bytes.append(at)
        appendDecimal(Int(micros), to: &bytes)
        bytes.append(mark)
        var position = 0
        while bytes.count < size {
            bytes.append(filler(seq: seq, position: position))
            position += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Chunk `seq`'s text without a stamp time, for comparing lengths.
    public static func length(seq: Int, size: Int, micros: Int64) -> Int {
        max(size, 3 + decimalDigits(seq) + decimalDigits(Int(micros)))
    }

    static func decimalDigits(_ value: Int) -> Int {
        var v = value, n = 1
        while v >= 10 { v /= 10; n += 1 }
        return n
    }

    static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var digits: [UInt8] = []
        var v = value
        while v > 0 {
            digits.append(UInt8(ascii: "0") + UInt8(v % 10))
            v /= 10
        }
        bytes.append(contentsOf: digits.reversed())
    }
}

extension String {
    fileprivate var trimmed: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
