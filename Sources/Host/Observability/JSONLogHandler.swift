import Foundation
import Logging
import NIOConcurrencyHelpers

/// One JSON object per line on stdout: what log shippers and `mix2api slo` read. Metadata values
/// pass through the Redactor, so a secret that slips into a message or field is still not printed.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    /// Serialises whole lines on fd 1 (one write per line, so lines never interleave).
    private static let output = NIOLockedValueBox<Int32>(STDOUT_FILENO)

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var o = JSONObject()
        o["ts"] = .string(Self.timestamp())
        o["level"] = .string(event.level.rawValue)
        o["msg"] = .string(Redactor.redact(event.message.description))
        let merged = self.metadata.merging(event.metadata ?? [:]) { $1 }
        for key in merged.keys.sorted() { o[key] = Self.json(merged[key]!) }
        var bytes: [UInt8] = []
        JSONWriter.append(.object(o), to: &bytes)
        bytes.append(0x0A)
        Self.output.withLockedValue { Self.writeAll($0, bytes) }
    }

    /// Writes what it can and drops the rest: a closed or broken stdout (`mix2api | head`, a log
    /// shipper that went away) must never stop the server. SIGPIPE is ignored at start-up, so a
    /// closed pipe is an EPIPE here, not a signal.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n > 0 {
                    offset += n
                } else if n < 0, errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let s): return .string(Redactor.redact(s))
        case .stringConvertible(let c):
            if let i = c as? any BinaryInteger { return .number(String(describing: i)) }
            if let d = c as? Double, d.isFinite { return .number(String(d)) }
            if let b = c as? Bool { return .bool(b) }
            return .string(Redactor.redact(c.description))
        case .array(let a): return .array(a.map(json))
        case .dictionary(let d): return .object(JSONObject(d.keys.sorted().map { ($0, json(d[$0]!)) }))
        }
    }

    /// RFC 3339 UTC with milliseconds, without a formatter object (they are slow and not Sendable).
    static func timestamp() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        var seconds = tv.tv_sec
        var t = tm()
        gmtime_r(&seconds, &t)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1, 2))-\(pad(t.tm_mday, 2))T\(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):\(pad(t.tm_sec, 2)).\(pad(Int32(tv.tv_usec / 1000), 3))Z"
    }
}
