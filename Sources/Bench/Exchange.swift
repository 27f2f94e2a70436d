import BenchStamp
import NIOCore

/// One request and what came back, measured as it arrives. Lives on its connection's event loop.
/// Confined to its event loop (hence unchecked).
final class Exchange: @unchecked Sendable {
    enum Outcome: Equatable {
        case ok
        case failed(kind: String, detail: String?)
    }

    let plan: RequestPlan
    /// When the request counts as started (open loop: when it was due), monotonic ns.
    let startNs: UInt64
    /// Measured, or a warm-up request whose numbers are dropped.
    let recorded: Bool
    let stats: RunStats
    /// `startNs` on the wall clock the upstream stamps chunks with (paced answers only).
    private let startWallMicros: Int64

    private var status = 0
    private var headersNs: UInt64?
    private var lastContentNs: UInt64?
    private var line: [UInt8] = []
    private var body: [UInt8] = []
    private var sawDone = false
    private var sawError: String?
    private var contentChunks = 0
    private var content: [UInt8] = []
    private var stamps: StampReader?

    init(plan: RequestPlan, startNs: UInt64, recorded: Bool, stats: RunStats) {
        self.plan = plan
        self.startNs = startNs
        self.recorded = recorded
        self.stats = stats
        stamps = plan.pace.map { StampReader(spec: $0) }
        // The wall clock read once here, moved back to when the request counts as started.
        startWallMicros = plan.pace == nil ? 0 : ChunkStamp.nowMicros() - Int64(bitPattern: Self.nowNs() &- startNs) / 1000
    }

    static func nowNs() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    private func micros(since ns: UInt64, to now: UInt64) -> Int64 { Int64(now &- ns) / 1000 }

    func head(status: Int) {
        self.status = status
        let now = Self.nowNs()
        headersNs = now
        if recorded { stats.headers.recordMicros(micros(since: startNs, to: now)) }
    }

    func bodyBytes(_ buffer: ByteBuffer) {
        guard plan.stream, status == 200 else {
            // Error bodies and whole JSON answers are read at the end.
            if body.count < 1 << 22 { body.append(contentsOf: buffer.readableBytesView) }
            return
        }
        let now = Self.nowNs()
        var wallNow: Int64 = 0
        for byte in buffer.readableBytesView {
            if byte != 0x0A {
                line.append(byte)
                continue
            }
            if line.last == 0x0D { line.removeLast() }
            handle(line: line[...], now: now, wallNow: &wallNow)
            line.removeAll(keepingCapacity: true)
        }
    }

    private func handle(line: ArraySlice<UInt8>, now: UInt64, wallNow: inout Int64) {
        guard line.starts(with: "data:".utf8) else { return }
        var payload = line.dropFirst(5)
        if payload.first == UInt8(ascii: " ") { payload = payload.dropFirst() }
        if OpenAIChunkScanner.isDone(payload) {
            sawDone = true
            return
        }
        if OpenAIChunkScanner.isError(payload) {
            if sawError == nil { sawError = String(decoding: payload.prefix(200), as: UTF8.self) }
            return
        }
        guard let text = OpenAIChunkScanner.content(in: payload), !text.isEmpty else { return }
        contentChunks += 1
        stats.contentChunksAll += 1
        if recorded {
            stats.contentChunks += 1
            stats.contentBytes += text.count
            if let last = lastContentNs {
                stats.gap.recordMicros(micros(since: last, to: now))
            } else {
                stats.ttft.recordMicros(micros(since: startNs, to: now))
            }
        }
        lastContentNs = now
        if plan.expectedContent != nil { content += text }
        if stamps != nil {
            if wallNow == 0 { wallNow = ChunkStamp.nowMicros() }
            let received = wallNow
            let record = recorded
            let stats = self.stats
            let startWall = startWallMicros
            stamps!.feed(text) { seq, sent in
                guard record else { return }
                stats.chunkDelay.recordMicros(received - sent)
                if seq == 0 {
                    stats.firstSent.recordMicros(sent - startWall)
                    stats.firstDelay.recordMicros(received - sent)
                }
            }
        }
    }

    /// The body ended (`cleanly`: the HTTP message was complete, not a dropped connection).
    func end(cleanly: Bool) -> Outcome {
        let now = Self.nowNs()
        let outcome = judge(cleanly: cleanly, now: now)
        if outcome == .ok { stats.okAll += 1 }
        guard recorded else { return outcome }
        switch outcome {
        case .ok:
            stats.ok += 1
            stats.total.recordMicros(micros(since: startNs, to: now))
        case .failed(let kind, let detail):
            stats.fail(kind, detail)
        }
        return outcome
    }

    /// The exchange was abandoned (timeout): counted here, since `end` will not run.
    func recordFailure(_ kind: String, _ detail: String) {
        if recorded { stats.fail(kind, detail) }
    }

    private func judge(cleanly: Bool, now: UInt64) -> Outcome {
        guard headersNs != nil else { return .failed(kind: "closed", detail: "connection closed before a response") }
        guard status == 200 else {
            return .failed(kind: "http_\(status)", detail: String(decoding: body.prefix(200), as: UTF8.self))
        }
        if !plan.stream { return judgeJSON(now: now) }
        if let sawError { return .failed(kind: "error_chunk", detail: sawError) }
        guard sawDone, cleanly else { return .failed(kind: "cut", detail: "the stream ended without [DONE]") }
        return checkContent(chunks: contentChunks)
    }

    private func judgeJSON(now: UInt64) -> Outcome {
        guard let text = OpenAIChunkScanner.content(in: body[...]) else {
            return .failed(kind: "integrity", detail: "no message content in the JSON answer")
        }
        if recorded {
            stats.ttft.recordMicros(micros(since: startNs, to: now))
            stats.contentBytes += text.count
        }
        if plan.expectedContent != nil { content = text }
        stamps?.feed(text) { _, _ in }
        return checkContent(chunks: nil)
    }

    private func checkContent(chunks: Int?) -> Outcome {
        if let expected = plan.expectedContent, content != expected {
            return .failed(kind: "integrity", detail: "content differs: got \(content.count) bytes, expected \(expected.count)")
        }
        if var reader = stamps {
            reader.finish()
            if let problem = reader.problem { return .failed(kind: "integrity", detail: problem) }
            if let chunks, chunks != reader.spec.chunks {
                return .failed(kind: "chunk_count", detail: "\(chunks) content chunks for \(reader.spec.chunks) stamps")
            }
        }
        return .ok
    }
}

/// What every request of a run sends and expects.
struct RequestPlan: Sendable {
    var target: TargetURL
    var body: ByteBuffer
    var apiKey: String?
    var stream: Bool
    var pace: PaceSpec?
    /// The exact answer text, when the target is known to give one (an instant mock model).
    var expectedContent: [UInt8]?
    var timeoutMs: Int
}
