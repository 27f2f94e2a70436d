import DriverKit
import Foundation
import JSONCore
import PluginABI
import SiteProtocol

/// One answer from the site, from request to terminal event. Attempts run on the driver's worker
/// queue; transfer callbacks on the curl thread; the two never overlap (a retry is scheduled
/// only from the previous attempt's end). Before anything visible reached the host it may retry:
/// transient failures with backoff, a refused token with a fresh login, a lost site session
/// with a new one. After that, a failure is the answer's end.
final class SiteStreamRun: @unchecked Sendable {
    private let core: SiteDriverCore
    let stream: DriverStream
    private let context: SiteRequestContext
    private let onDone: @Sendable (SiteStreamRun) -> Void

    private let lock = NSLock()
    private var cancelled = false
    private var transfer: HTTPTransfer?

    private var base: String
    private var pins: [String] = []
    private var lookupDigest: String?
    private var continuation: SiteSessions.Entry?
    private var token: String?
    private var rejectedToken: String?
    private var retries = 0
    private var authRetries = 0
    private var sessionRetried = false
    private var visibleSent = false
    private var siteSession: SiteSessions.Entry?

    init(core: SiteDriverCore, stream: DriverStream, context: SiteRequestContext, onDone: @escaping @Sendable (SiteStreamRun) -> Void) {
        self.core = core
        self.stream = stream
        self.context = context
        self.onDone = onDone
        self.base = core.config.baseURL
    }

    var id: m2a_stream_id { stream.id }

    private var isCancelled: Bool { lock.withLock { cancelled } }

    /// Worker queue.
    func begin() {
        if let raw = context.upstreamBaseURL {
            do {
                let resolved = try core.dynamicBase.resolve(raw)
                base = resolved.base
                pins = [resolved.pin]
            } catch {
                return end(failure: SiteFailure(kind: .invalidRequest, message: error.description))
            }
        }
        lookupDigest = ConversationKey.lookupDigest(context.messages)
        if !context.forceNew, let digest = lookupDigest {
            continuation = core.sessions.lookup(scope: context.scope, digest: digest)
        }
        attempt()
    }

    func cancel() {
        let running: HTTPTransfer? = lock.withLock {
            cancelled = true
            return transfer
        }
        if let running {
            core.engine.cancel(running)  // its end reports the cancellation
        }
        // Not yet (or no longer) on the wire: the worker sees the flag at its next step.
    }

    // MARK: Attempts (worker queue)

    private func attempt() {
        if isCancelled { return endCancelled() }
        do {
            token = try core.auth.token(inbound: context.inboundCredential, rejected: rejectedToken)
        } catch {
            return end(failure: SiteFailure(kind: error.kind, message: error.message))
        }
        let body: [UInt8]
        do {
            body = try SiteRequestBuilder.build(
                request: context.raw, options: core.requestOptions(model: context.model, personaID: context.personaID),
                continuation: continuation.map {
                    SiteContinuation(sessionID: $0.sessionID, exchangeID: $0.exchangeID, newMessagesStart: ConversationKey.newMessagesStart(context.messages))
                })
        } catch {
            switch error {
            case .contextLengthExceeded: return end(failure: SiteFailure(kind: .contextLength, message: error.description))
            case .invalidRequest: return end(failure: SiteFailure(kind: .invalidRequest, message: error.description))
            }
        }
        var request = HTTPTransfer.Request(url: base + core.config.chatPathWithSlash, body: body)
        request.headers = core.chatHeaders(stream: context.stream, token: token, requestID: context.requestID)
        request.connectTimeoutMs = core.config.connectTimeoutMs
        request.firstByteTimeoutMs = core.config.timeoutMs
        request.idleTimeoutMs = core.config.idleTimeoutMs
        request.totalTimeoutMs = core.config.totalTimeoutMs
        request.keepAlive = core.config.keepAlive
        request.resolvePins = pins
        let t = HTTPTransfer(request)
        let reading = ResponseReading(run: self, transfer: t)
        t.onResponse = { reading.response($0) }
        t.onBody = { reading.body($0) }
        t.onEnd = { reading.end($0) }
        let proceed = lock.withLock { () -> Bool in
            if cancelled { return false }
            transfer = t
            return true
        }
        guard proceed else { return endCancelled() }
        core.engine.submit(t)
    }

    // MARK: Results (curl thread)

    /// Handles what the site said; returns false once the answer is over.
    @discardableResult
    fileprivate func deliver(_ events: [AnswerEvent]) -> Bool {
        for event in events {
            switch event {
            case .upstreamStatus(let s): stream.upstreamStatus(Int32(s))
            case .session(let id, let exchange):
                siteSession = .init(sessionID: id, exchangeID: exchange)
                stream.session(id: id, exchange: exchange)
            case .text(let s):
                visibleSent = true
                stream.text(s)
            case .reasoning(let s):
                visibleSent = true
                stream.reasoning(s)
            case .toolCallStart(let index, let id, let name):
                visibleSent = true
                stream.toolCallStart(index: UInt32(index), id: id, name: name)
            case .toolCallArguments(let index, let fragment): stream.toolCallArguments(index: UInt32(index), fragment)
            case .toolCallEnd(let index): stream.toolCallEnd(index: UInt32(index))
            case .usage(let p, let c): stream.usage(prompt: Int64(p), completion: Int64(c))
            case .finish(let reason):
                rememberSessionThen {
                    self.stream.finish(Self.abiFinish(reason))
                    self.finishRun()
                }
                return false
            case .failure(let failure):
                fail(failure)
                return false
            }
        }
        return true
    }

    /// The attempt's transfer is over; forget it unless a retry already replaced it.
    fileprivate func transferFinished(_ t: HTTPTransfer) {
        lock.withLock { if transfer === t { transfer = nil } }
    }

    /// The transfer ended before the answer did.
    fileprivate func transportFailed(_ end: HTTPTransfer.End, status: Int) {
        switch end {
        case .cancelled where isCancelled: endCancelled()
        case .cancelled, .completed: fail(SiteFailure(kind: .upstream, message: "the site's answer could not be read", upstreamStatus: status))
        case .timedOut(let why): fail(SiteFailure(kind: .timeout, message: why, upstreamStatus: status))
        case .failed(let why): fail(SiteFailure(kind: status == 0 ? .unavailable : .upstream, message: "connection to the site failed: \(why)", upstreamStatus: status))
        }
    }

    private func fail(_ failure: SiteFailure) {
        if isCancelled { return endCancelled() }
        if !visibleSent, let delay = retryDelay(for: failure) {
            core.host.counterAdd("site_retries")
            core.worker.asyncAfter(deadline: .now() + .milliseconds(delay)) { self.attempt() }
            return
        }
        end(failure: failure.kind == .sessionNotFound ? SiteFailure(kind: .upstream, message: failure.message, upstreamStatus: failure.upstreamStatus) : failure)
    }

    /// Milliseconds to wait before trying again, or nil when this failure is final.
    private func retryDelay(for failure: SiteFailure) -> Int? {
        switch failure.kind {
        case .upstreamAuth where core.config.authMode == .managed && authRetries < core.config.authRecoveryRetry:
            authRetries += 1
            rejectedToken = token
            return 0
        case .sessionNotFound where continuation != nil && !sessionRetried:
            sessionRetried = true
            if let digest = lookupDigest { core.sessions.forget(scope: context.scope, digest: digest) }
            continuation = nil
            return 0
        case .upstream where failure.upstreamStatus >= 500 || failure.upstreamStatus == 0, .unavailable, .rateLimited, .timeout:
            guard retries < core.config.retryCount else { return nil }
            retries += 1
            let backoff = core.config.retryBaseMs << min(retries - 1, 10)
            let jitter = backoff > 0 ? Int.random(in: 0...(backoff / 5)) : 0
            return min(30_000, max(backoff + jitter, failure.kind == .rateLimited ? failure.retryAfterMs : 0))
        default:
            return nil
        }
    }

    /// Stores which site session holds this conversation now, then runs `next` (the terminal
    /// event): the client cannot send its next turn before the mapping exists. On the worker
    /// queue, because a state call may block (Redis) and the curl thread serves every transfer.
    private func rememberSessionThen(_ next: @escaping @Sendable () -> Void) {
        guard let session = siteSession ?? continuation else { return next() }
        let (sessions, scope, digest) = (core.sessions, context.scope, ConversationKey.storeDigest(context.messages))
        core.worker.async {
            sessions.store(scope: scope, digest: digest, session)
            next()
        }
    }

    private func end(failure: SiteFailure) {
        stream.fail(Self.abiError(failure.kind), failure.message, upstreamStatus: Int32(failure.upstreamStatus), retryAfterMilliseconds: Int64(failure.retryAfterMs))
        finishRun()
    }

    private func endCancelled() {
        let end: @Sendable () -> Void = {
            self.stream.finish(M2A_FINISH_CANCELLED)
            self.finishRun()
        }
        // The host stops reading on purpose once a tool-call block is complete: the site did
        // answer this turn, so the next turn must continue the same site session.
        if visibleSent { rememberSessionThen(end) } else { end() }
    }

    private func finishRun() { onDone(self) }

    static func abiFinish(_ f: AnswerFinish) -> m2a_finish_reason {
        switch f {
        case .stop: M2A_FINISH_STOP
        case .length: M2A_FINISH_LENGTH
        case .toolCalls: M2A_FINISH_TOOL_CALLS
        case .contentFilter: M2A_FINISH_CONTENT_FILTER
        }
    }

    static func abiError(_ k: SiteFailureKind) -> m2a_error_kind {
        switch k {
        case .upstream, .sessionNotFound: M2A_ERROR_UPSTREAM
        case .upstreamAuth: M2A_ERROR_UPSTREAM_AUTH
        case .rateLimited: M2A_ERROR_RATE_LIMITED
        case .timeout: M2A_ERROR_TIMEOUT
        case .unavailable: M2A_ERROR_UNAVAILABLE
        case .invalidRequest: M2A_ERROR_INVALID_REQUEST
        case .contextLength: M2A_ERROR_CONTEXT_LENGTH
        }
    }
}

/// Reads one attempt's response: SSE through the reader and translator as it arrives, anything
/// else collected (bounded) and judged at the end.
private final class ResponseReading {
    static let maxCollected = 1 << 20
    let run: SiteStreamRun
    unowned let transfer: HTTPTransfer
    var status = 0
    var headers: [String: String] = [:]
    var streaming = false
    var reader = SSEReader()
    var translator = SiteStreamTranslator()
    var collected: [UInt8] = []
    /// The answer reached its terminal (or failed): nothing more is delivered.
    var over = false

    init(run: SiteStreamRun, transfer: HTTPTransfer) {
        self.run = run
        self.transfer = transfer
    }

    func response(_ r: HTTPTransfer.Response) {
        status = r.status
        headers = r.headers
        let type = (r.headers["content-type"] ?? "").lowercased()
        streaming = (200..<300).contains(r.status) && type.contains("text/event-stream")
        if streaming {
            translator = SiteStreamTranslator(upstreamStatus: r.status)
            over = !run.deliver([.upstreamStatus(r.status)])
        }
    }

    func body(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // After a normal finish, drain quietly so the connection can be reused.
        if over { return !failed }
        guard streaming else {
            guard collected.count + bytes.count <= Self.maxCollected else { return false }
            collected += bytes
            return true
        }
        let events: [SSEEvent]
        do { events = try reader.feed(bytes) } catch {
            return conclude([.failure(SiteFailure(kind: .upstream, message: "the site's stream is unreadable: \(error)", upstreamStatus: status))])
        }
        for event in events where !over {
            if !conclude(translator.consume(event)) { return false }
        }
        return true
    }

    private var failed = false

    /// Delivers events; returns false when reading must stop (the answer failed: a retry, if
    /// any, will open a new transfer, so this one is abandoned).
    private func conclude(_ events: [AnswerEvent]) -> Bool {
        guard !events.isEmpty else { return true }
        if events.contains(where: { if case .failure = $0 { true } else { false } }) { failed = true }
        if !run.deliver(events) {
            over = true
            if failed { run.transferFinished(transfer) }
        }
        return !failed
    }

    func end(_ end: HTTPTransfer.End) {
        run.transferFinished(transfer)
        if over { return }
        over = true
        guard case .completed = end else { return run.transportFailed(end, status: status) }
        if streaming {
            var events: [AnswerEvent] = []
            for e in reader.finish() { events += translator.consume(e) }
            events += translator.endOfInput()
            run.deliver(events)
        } else if let failure = SiteResponseClassifier.classify(
            status: status, contentType: headers["content-type"], body: collected, retryAfter: headers["retry-after"], nowMs: Int64(Date().timeIntervalSince1970 * 1000))
        {
            run.deliver([.failure(failure)])
        } else {
            run.deliver([.upstreamStatus(status)] + NonStreamAnswer.decode(body: collected, upstreamStatus: status))
        }
    }
}
