import Foundation
import Logging
import NIOConcurrencyHelpers

/// The opt-in sampled trace capture (MIX2API_TRACE_SAMPLE_PERCENT, MIX2API_TRACE_DIR): one JSON
/// file per sampled request with its headers and both bodies, redacted, each body cut at
/// `TraceSettings.maxBodyBytes`. Files are written off the event loop, owner-readable only, and
/// deleted once older than `TraceSettings.retentionSeconds` (checked at start-up and then at most
/// every ten minutes, on the next write).
final class TraceRecorder: Sendable {
    static let fileSuffix = ".trace.json"
    let directory: String
    let samplePercent: Double
    private let logger: Logger
    private let queue = DispatchQueue(label: "mix2api.traces")
    private let lastSweep = NIOLockedValueBox<Date>(.distantPast)

    init(directory: String, samplePercent: Double, logger: Logger) {
        self.directory = directory
        self.samplePercent = samplePercent
        self.logger = logger
        queue.async { self.sweep(now: Date()) }
    }

    /// Creates the directory (owner-only) or says why it cannot be used.
    static func prepare(_ directory: String) throws(HostConfig.Invalid) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw HostConfig.Invalid(setting: "MIX2API_TRACE_DIR", problem: "cannot create \"\(directory)\": \(error.localizedDescription)")
        }
        guard FileManager.default.isWritableFile(atPath: directory) else {
            throw HostConfig.Invalid(setting: "MIX2API_TRACE_DIR", problem: "\"\(directory)\" is not writable")
        }
    }

    func shouldSample() -> Bool {
        samplePercent >= 100 || Double.random(in: 0..<100) < samplePercent
    }

    func write(_ capture: TraceCapture) {
        queue.async {
            let now = Date()
            let record = capture.record(finishedAt: now)
            var bytes: [UInt8] = []
            JSONWriter.append(record, to: &bytes)
            bytes.append(0x0A)
            let name = "\(Self.stamp(now))-\(capture.requestID)\(Self.fileSuffix)"
            let path = (self.directory as NSString).appendingPathComponent(name)
            if !FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) {
                self.logger.warning("trace capture: cannot write a trace file", metadata: ["request_id": .string(capture.requestID), "dir": .string(self.directory)])
            }
            let due = self.lastSweep.withLockedValue { last in
                guard now.timeIntervalSince(last) >= 600 else { return false }
                last = now
                return true
            }
            if due { self.sweep(now: now) }
        }
    }

    /// Waits for the writes queued so far (tests, shutdown).
    func drain() { queue.sync {} }

    /// Deletes this recorder's files older than the retention period (by modification time).
    func sweep(now: Date) {
        lastSweep.withLockedValue { $0 = now }
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else { return }
        var removed = 0
        for name in names where name.hasSuffix(Self.fileSuffix) {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let modified = (try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date else { continue }
            if now.timeIntervalSince(modified) > TraceSettings.retentionSeconds, (try? fm.removeItem(atPath: path)) != nil { removed += 1 }
        }
        if removed > 0 { logger.info("trace capture: deleted expired trace files", metadata: ["count": .stringConvertible(removed)]) }
    }

    /// 20261122T052840.123Z: sorts by time, safe in a file name.
    static func stamp(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(ms / 1000)
        var t = tm()
        gmtime_r(&seconds, &t)
        return String(format: "%04d%02d%02dT%02d%02d%02d.%03dZ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, Int32(ms % 1000))
    }
}

/// What one sampled request sent and received, collected while the bytes go by.
final class TraceCapture: Sendable {
    let requestID: String
    private let started = Date()
    private let head: JSONObject
    private struct Bodies {
        var request: [UInt8] = []
        var requestCut = false
        var response: [UInt8] = []
        var responseCut = false
        var status = 0
        var outcome = "complete"
    }
    private let bodies = NIOLockedValueBox(Bodies())

    init(requestID: String, method: String, path: String, headers: JSONValue) {
        self.requestID = requestID
        head = JSONObject([
            ("request_id", .string(requestID)), ("method", .string(method)), ("path", .string(Redactor.redact(path))), ("request_headers", headers),
        ])
    }

    func request(_ chunk: some Collection<UInt8>) { bodies.withLockedValue { Self.append(chunk, to: &$0.request, cut: &$0.requestCut) } }
    func response(_ chunk: some Collection<UInt8>) { bodies.withLockedValue { Self.append(chunk, to: &$0.response, cut: &$0.responseCut) } }
    func status(_ code: Int) { bodies.withLockedValue { $0.status = code } }
    /// `complete`, or why the response body ended early (the client left, an error).
    func outcome(_ text: String) { bodies.withLockedValue { $0.outcome = text } }

    private static func append(_ chunk: some Collection<UInt8>, to body: inout [UInt8], cut: inout Bool) {
        let room = TraceSettings.maxBodyBytes - body.count
        if chunk.count > room { cut = true }
        if room > 0 { body += chunk.prefix(room) }
    }

    func record(finishedAt end: Date) -> JSONValue {
        let b = bodies.withLockedValue { $0 }
        var o = head
        o["ts"] = .string(ISO8601DateFormatter().string(from: started))
        o["duration_ms"] = .number(String(Int((end.timeIntervalSince(started) * 1000).rounded())))
        o["status"] = .number(String(b.status))
        o["outcome"] = .string(b.outcome)
        o["request_body"] = .string(Redactor.redact(String(decoding: b.request, as: UTF8.self)))
        o["request_body_truncated"] = .bool(b.requestCut)
        o["response_body"] = .string(Redactor.redact(String(decoding: b.response, as: UTF8.self)))
        o["response_body_truncated"] = .bool(b.responseCut)
        return .object(o)
    }
}
