import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The streaming loop shared by every front end. Phase one waits, before any header is sent, for
/// the driver's first visible event: an early error can still become a real HTTP error. Phase two
/// writes the SSE body, batching whatever arrived since the last write into one write, sending
/// keep-alives into silences and ending every stream with the protocol's own terminal signal.
enum StreamingResponder {
    /// Mutable state shared by the two phases (the body closure must be Sendable).
    final class State<Encoder: StreamingAnswerEncoder>: @unchecked Sendable {
        var encoder: Encoder
        var record: AccessRecord
        let exchange: ChatExchange
        let pipeline: AnswerPipeline
        let logger: Logger
        var pending: [UInt8] = []
        /// Set when the headers went out: before that, nothing encoded reached the client.
        var headersSent = false
        private var logged = false

        init(encoder: Encoder, record: AccessRecord, exchange: ChatExchange, logger: Logger) {
            self.encoder = encoder
            self.record = record
            self.exchange = exchange
            self.pipeline = AnswerPipeline(exchange: exchange)
            self.logger = logger
        }

        func end(_ reason: EndReason, status: Int? = nil, error: String? = nil) {
            guard !logged else { return }
            logged = true
            exchange.close()
            record.endReason = reason
            if let status { record.httpStatus = status }
            if let error { record.errorMessage = error }
            record.upstreamStatus = exchange.upstreamStatus
            record.durationMs = exchange.elapsedMs()
            record.chunks = headersSent ? encoder.chunksSent : 0
            record.toolCalls = headersSent ? encoder.toolCallsSent : 0
            record.toolCallIDs = headersSent ? encoder.toolCallIDs : []
            record.write(to: logger)
        }

        deinit {
            // A response whose body never ran (the client left before the headers) still gets its line.
            if !logged {
                exchange.cancelDriver()
                end(.clientAbort, status: 499)
            }
        }
    }

    static func respond<Encoder: StreamingAnswerEncoder>(
        exchange: ChatExchange, encoder: Encoder, record: AccessRecord, logger: Logger,
        sseHeaders: HTTPFields, errorResponse: @escaping (ClientError) -> Response
    ) async -> Response {
        let state = State(encoder: encoder, record: record, exchange: exchange, logger: logger)
        // Phase one: nothing sent yet.
        while true {
            let (batch, due) = await exchange.next(headersSent: false)
            // Shutdown is about to run out of grace (or did: our task is cancelled, which also
            // closes the connection's input and looks like a client leaving): say so.
            if batch.shutdown || Task.isCancelled {
                exchange.cancelDriver()
                let error = ClientError.shuttingDown
                state.end(error.endReason, status: error.status, error: error.message)
                return errorResponse(error)
            }
            if batch.clientGone {
                exchange.cancelDriver()
                state.end(.clientAbort, status: 499)
                return Response(status: .init(code: 499))
            }
            if batch.overflowed {
                exchange.cancelDriver()
                let error = ClientError.tooSlow(budget: exchange.sink.budgetBytes)
                state.end(error.endReason, status: error.status, error: error.message)
                return errorResponse(error)
            }
            let (events, failure) = state.pipeline.process(batch.events, clientHasSeenAnswer: false)
            if let failure {
                state.end(failure.endReason, status: failure.status, error: failure.message)
                return errorResponse(failure)
            }
            var visible = false
            for event in events {
                switch event {
                case .error(let failure):
                    let error = ClientError(failure)
                    state.end(error.endReason, status: error.status, error: error.message)
                    return errorResponse(error)
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
            if visible { break }
            switch due {
            case .keepAlive:
                state.encoder.keepAlive(into: &state.pending)
            case .firstEventTimeout, .totalTimeout:
                exchange.cancelDriver()
                let error = ClientError.timeout("the upstream sent nothing within \(Int(exchange.elapsedMs())) ms")
                state.end(.timeout, status: error.status, error: error.message)
                return errorResponse(error)
            case .idleTimeout, .nothing:
                continue
            }
            break
        }

        // Phase two: headers go out with the first bytes.
        state.record.ttfbMs = exchange.elapsedMs()
        state.headersSent = true
        state.record.sseStarted = true
        return Response(status: .ok, headers: sseHeaders, body: ResponseBody { writer in
            await writeBody(state: state, writer: &writer)
        })
    }

    private static func writeBody<Encoder: StreamingAnswerEncoder>(state: State<Encoder>, writer: inout any ResponseBodyWriter) async {
        let exchange = state.exchange
        var endReason: EndReason = .ok
        var endError: String?
        var finished = false
        func flush() async -> Bool {
            guard !state.pending.isEmpty else { return true }
            let buffer = ByteBuffer(bytes: state.pending)
            state.pending.removeAll(keepingCapacity: true)
            let sink = exchange.sink
            sink.writerWaiting(true)
            defer { sink.writerWaiting(false) }
            do {
                try await writer.write(buffer)
                exchange.lastWriteAt = .now()
                // The terminal signal was in what just went out (metrics: cut vs. unterminated).
                if state.encoder.finished { state.record.terminalSent = true }
                return true
            } catch {
                return false
            }
        }
        // The first event may already have finished the answer.
        finished = state.encoder.finished
        if !(await flush()) {
            exchange.cancelDriver()
            state.end(.clientAbort)
            return
        }
        while !finished {
            let (batch, due) = await exchange.next(headersSent: true)
            if batch.shutdown || Task.isCancelled {
                // Shutdown is running out of grace: end with a signal the client can see.
                exchange.cancelDriver()
                let error = ClientError.shuttingDown
                state.encoder.fail(error, into: &state.pending)
                endReason = error.endReason
                endError = error.message
                _ = await flush()
                break
            }
            if batch.clientGone {
                exchange.cancelDriver()
                endReason = .clientAbort
                break
            }
            let (events, failure) = state.pipeline.process(batch.events, clientHasSeenAnswer: state.encoder.hasStarted)
            for event in events {
                switch event {
                case .finish(.cancelled):
                    // We only cancel for a gone client or a timeout; both are handled below.
                    if !exchange.wasCancelled {
                        let error = ClientError.driverBroke("the driver cancelled the stream on its own")
                        state.encoder.fail(error, into: &state.pending)
                        endReason = error.endReason
                        endError = error.message
                    } else {
                        endReason = .clientAbort
                    }
                    finished = true
                case .finish(let reason):
                    state.encoder.finish(reason, promptTokens: exchange.promptTokens, completionTokens: exchange.completionTokens, into: &state.pending)
                    finished = true
                case .error(let failure):
                    let error = ClientError(failure)
                    state.encoder.fail(error, into: &state.pending)
                    endReason = error.endReason
                    endError = error.message
                    finished = true
                default:
                    state.encoder.encode(event, into: &state.pending)
                }
                if finished { break }
            }
            if !finished, let failure {
                state.encoder.fail(failure, into: &state.pending)
                endReason = failure.endReason
                endError = failure.message
                finished = true
            }
            if !finished, batch.overflowed {
                exchange.cancelDriver()
                let error = ClientError.tooSlow(budget: exchange.sink.budgetBytes)
                state.encoder.fail(error, into: &state.pending)
                endReason = error.endReason
                endError = error.message
                finished = true
            }
            if !finished {
                switch due {
                case .keepAlive:
                    state.encoder.keepAlive(into: &state.pending)
                case .idleTimeout, .firstEventTimeout, .totalTimeout:
                    exchange.cancelDriver()
                    let what = due == .totalTimeout ? "the answer took longer than the total time limit" : "the upstream went silent for too long"
                    let error = ClientError.timeout(what)
                    state.encoder.fail(error, into: &state.pending)
                    endReason = .timeout
                    endError = what
                    finished = true
                case .nothing:
                    break
                }
            }
            if !(await flush()) {
                exchange.cancelDriver()
                // A client that stopped reading and then left is the slow client, not an abort.
                endReason = exchange.sink.hasOverflowed ? .clientTooSlow : .clientAbort
                break
            }
        }
        if endReason == .clientAbort || (endReason == .clientTooSlow && endError == nil) {
            state.end(endReason)
            return
        }
        do { try await writer.finish(nil) } catch {
            state.end(endReason == .ok ? .clientAbort : endReason, error: endError)
            return
        }
        state.end(endReason, error: endError)
    }
}
