import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The streaming loop shared by every front end. Phase one waits, before any header is sent, for
/// the driver's first visible event: an early error can still become a real HTTP error. Phase two
/// writes the SSE body, batching whatever arrived since the last write into one write, sending
/// keep-alives into silences and ending every stream with the protocol's own terminal signal.
///
/// The async functions here only wait and hand each batch to a synchronous step: their frames sit
/// in the task's allocator for the whole stream (see `ChatRoute.handle`), the steps' locals do not.
enum StreamingResponder {
    /// Mutable state shared by the two phases (the body closure must be Sendable).
    final class State<Encoder: StreamingAnswerEncoder>: @unchecked Sendable {
        var encoder: Encoder
        var record: AccessRecord
        let exchange: ChatExchange
        let pipeline: AnswerPipeline
        let logger: Logger
        let sseHeaders: HTTPFields
        let errorResponse: (ClientError) -> Response
        var pending: [UInt8] = []
        /// Set when the headers went out: before that, nothing encoded reached the client.
        var headersSent = false
        /// Phase two: the answer's end is encoded (or the stream must stop), and how it ended.
        var finished = false
        var endReason: EndReason = .ok
        var endError: String?
        private var logged = false

        init(encoder: Encoder, record: AccessRecord, exchange: ChatExchange, logger: Logger, sseHeaders: HTTPFields, errorResponse: @escaping (ClientError) -> Response) {
            self.encoder = encoder
            self.record = record
            self.exchange = exchange
            self.pipeline = AnswerPipeline(exchange: exchange)
            self.logger = logger
            self.sseHeaders = sseHeaders
            self.errorResponse = errorResponse
        }

        func end(_ reason: EndReason, status: Int? = nil, error: String? = nil) {
            guard !logged else { return }
            logged = true
            exchange.close()
            record.endReason = reason
            if let status { record.httpStatus = status }
            if let error { record.errorMessage = error }
            record.upstreamStatus = exchange.upstreamStatus
            exchange.recordPhases(into: &record)
            record.durationMs = exchange.elapsedMs()
            record.chunks = headersSent ? encoder.chunksSent : 0
            record.toolCalls = headersSent ? encoder.toolCallsSent : 0
            record.toolCallIDs = headersSent ? encoder.toolCallIDs : []
            record.write(to: logger)
        }

        /// Phase two ends with `error` shown to the client (an error chunk, then the end).
        func fail(_ error: ClientError) {
            encoder.fail(error, into: &pending)
            endReason = error.endReason
            endError = error.message
            finished = true
        }

        deinit {
            // A response whose body never ran (the client left before the headers) still gets its line.
            if !logged {
                exchange.cancelDriver()
                end(.clientAbort, status: 499)
            }
        }
    }

    static func respond<Encoder: StreamingAnswerEncoder>(_ state: State<Encoder>) async -> Response {
        while true {
            let (batch, due) = await state.exchange.next(headersSent: false)
            if let response = open(state, batch: batch, due: due) { return response }
        }
    }

    /// Phase one, one batch: an error response, the SSE response once something is visible (or a
    /// keep-alive is due), or nil to wait for more.
    @inline(never)
    private static func open<Encoder: StreamingAnswerEncoder>(_ state: State<Encoder>, batch: EventSink.Batch, due: ChatExchange.Due) -> Response? {
        let exchange = state.exchange
        func fail(_ error: ClientError) -> Response {
            state.end(error.endReason, status: error.status, error: error.message)
            return state.errorResponse(error)
        }
        // Shutdown is about to run out of grace (or did: our task is cancelled, which also closes
        // the connection's input and looks like a client leaving): say so.
        if batch.shutdown || Task.isCancelled {
            exchange.cancelDriver()
            return fail(.shuttingDown)
        }
        if batch.clientGone {
            exchange.cancelDriver()
            state.end(.clientAbort, status: 499)
            return Response(status: .init(code: 499))
        }
        if batch.overflowed {
            exchange.cancelDriver()
            return fail(.tooSlow(budget: exchange.sink.budgetBytes))
        }
        let (events, failure) = state.pipeline.process(batch.events, clientHasSeenAnswer: false)
        if let failure { return fail(failure) }
        var visible = false
        for event in events {
            switch event {
            case .error(let failure):
                return fail(ClientError(failure))
            case .finish(.cancelled):
                // Only a cancel we asked for ends like this; the client is gone or timed out.
                state.end(.clientAbort, status: 499)
                return Response(status: .init(code: 499))
            case .usage, .session, .upstreamStatus:
                state.encoder.encode(event, into: &state.pending)
            default:
                visible = true
                state.encoder.encode(event, into: &state.pending)
                if case .finish(let reason) = event {
                    state.encoder.finish(reason, promptTokens: exchange.promptTokens, completionTokens: exchange.completionTokens, into: &state.pending)
                }
            }
        }
        if !visible {
            switch due {
            case .keepAlive:
                state.encoder.keepAlive(into: &state.pending)
            case .firstEventTimeout, .totalTimeout:
                exchange.cancelDriver()
                return fail(.timeout("the upstream sent nothing within \(Int(exchange.elapsedMs(exchange.startedAt))) ms"))
            case .idleTimeout, .nothing:
                return nil
            }
        }

        // Phase two: headers go out with the first bytes.
        state.record.ttfbMs = exchange.elapsedMs()
        state.headersSent = true
        state.record.sseStarted = true
        return Response(status: .ok, headers: state.sseHeaders, body: ResponseBody { writer in
            await writeBody(state: state, writer: &writer)
        })
    }

    private static func writeBody<Encoder: StreamingAnswerEncoder>(state: State<Encoder>, writer: inout any ResponseBodyWriter) async {
        // The first event may already have finished the answer.
        state.finished = state.encoder.finished
        if !(await flush(state, &writer)) {
            state.exchange.cancelDriver()
            state.end(.clientAbort)
            return
        }
        while !state.finished {
            let (batch, due) = await state.exchange.next(headersSent: true)
            switch step(state, batch: batch, due: due) {
            case .leave:
                break
            case .lastWrite:
                _ = await flush(state, &writer)
            case .write:
                if await flush(state, &writer) { continue }
                state.exchange.cancelDriver()
                // A client that stopped reading and then left is the slow client, not an abort.
                state.endReason = state.exchange.sink.hasOverflowed ? .clientTooSlow : .clientAbort
            }
            break
        }
        if state.endReason == .clientAbort || (state.endReason == .clientTooSlow && state.endError == nil) {
            state.end(state.endReason)
            return
        }
        do { try await writer.finish(nil) } catch {
            state.end(state.endReason == .ok ? .clientAbort : state.endReason, error: state.endError)
            return
        }
        state.end(state.endReason, error: state.endError)
    }

    /// What phase two does after encoding one batch.
    enum Step {
        /// Write what is pending; go on unless the answer finished.
        case write
        /// Write what is pending (the end the client must see), then stop whatever the write did.
        case lastWrite
        /// Stop without writing: the client is gone.
        case leave
    }

    /// Phase two, one batch: encodes it into `state.pending`.
    @inline(never)
    private static func step<Encoder: StreamingAnswerEncoder>(_ state: State<Encoder>, batch: EventSink.Batch, due: ChatExchange.Due) -> Step {
        let exchange = state.exchange
        if batch.shutdown || Task.isCancelled {
            // Shutdown is running out of grace: end with a signal the client can see.
            exchange.cancelDriver()
            state.fail(.shuttingDown)
            return .lastWrite
        }
        if batch.clientGone {
            exchange.cancelDriver()
            state.endReason = .clientAbort
            return .leave
        }
        let (events, failure) = state.pipeline.process(batch.events, clientHasSeenAnswer: state.encoder.hasStarted)
        for event in events {
            switch event {
            case .finish(.cancelled):
                // We only cancel for a gone client or a timeout; both are handled below.
                if !exchange.wasCancelled {
                    state.fail(.driverBroke("the driver cancelled the stream on its own"))
                } else {
                    state.endReason = .clientAbort
                    state.finished = true
                }
            case .finish(let reason):
                state.encoder.finish(reason, promptTokens: exchange.promptTokens, completionTokens: exchange.completionTokens, into: &state.pending)
                state.finished = true
            case .error(let failure):
                state.fail(ClientError(failure))
            default:
                state.encoder.encode(event, into: &state.pending)
            }
            if state.finished { return .write }
        }
        if let failure {
            state.fail(failure)
            return .write
        }
        if batch.overflowed {
            exchange.cancelDriver()
            state.fail(.tooSlow(budget: exchange.sink.budgetBytes))
            return .write
        }
        switch due {
        case .keepAlive:
            state.encoder.keepAlive(into: &state.pending)
        case .idleTimeout, .firstEventTimeout, .totalTimeout:
            exchange.cancelDriver()
            let what = due == .totalTimeout ? "the answer took longer than the total time limit" : "the upstream went silent for too long"
            state.fail(.timeout(what))
        case .nothing:
            break
        }
        return .write
    }

    /// Writes what is pending; false when the client can no longer be written to.
    private static func flush<Encoder: StreamingAnswerEncoder>(_ state: State<Encoder>, _ writer: inout any ResponseBodyWriter) async -> Bool {
        guard let buffer = takePending(state) else { return true }
        let sink = state.exchange.sink
        sink.writerWaiting(true)
        defer { sink.writerWaiting(false) }
        do {
            try await writer.write(buffer)
        } catch {
            return false
        }
        state.exchange.lastWriteAt = .now()
        // The terminal signal was in what just went out (metrics: cut vs. unterminated).
        if state.encoder.finished { state.record.terminalSent = true }
        return true
    }

    /// The pending bytes as one buffer to write, or nil when there are none.
    @inline(never)
    private static func takePending<Encoder: StreamingAnswerEncoder>(_ state: State<Encoder>) -> ByteBuffer? {
        guard !state.pending.isEmpty else { return nil }
        let buffer = ByteBuffer(bytes: state.pending)
        // Kept for the next chunk unless a backlog grew it: it would stay that size for the stream.
        state.pending.removeAll(keepingCapacity: state.pending.capacity <= 2048)
        return buffer
    }
}
