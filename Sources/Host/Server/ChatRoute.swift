import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// One chat request, whichever dialect it speaks: auth → body → decode to the canonical request
/// → route to a driver → tool protocol for text-only drivers → exchange → SSE or one JSON answer,
/// with exactly one access record (and so one set of metrics) per request.
///
/// `POST /v1/chat/completions` (and `/chat/completions`, `/`, as the old service had) uses the
/// OpenAI dialect; `POST /v1/messages` (Claude Code adds `?beta=true`) the Anthropic one.
struct ChatRoute<Dialect: ChatDialect>: Sendable {
    let host: HostServer
    let dialect: Dialect

    /// Why the work is split the way it is: an async function's frame lives in its task's
    /// allocator, and the task keeps those slabs at their high-water size for as long as the
    /// connection's task runs, so the whole stream. The awaiting functions here hold a few
    /// references; the work between awaits runs in synchronous, non-inlined helpers whose locals
    /// live on the thread's stack. (This route's frame alone was 8 KiB of every stream's memory.)
    func handle(_ request: Request, context: HostRequestContext) async -> Response {
        let started = NIODeadline.now()
        let body = await host.authorizedBody(request)
        switch begin(request, context: context, read: body, started: started) {
        case .answered(let response): return response
        case .streaming(let state): return await StreamingResponder.respond(state)
        case .collecting(let answer): return await collect(answer)
        }
    }

    /// What the synchronous start of a request decided.
    enum Begun {
        /// Answered already (an error, with its access line written).
        case answered(Response)
        case streaming(StreamingResponder.State<Dialect.StreamEncoder>)
        case collecting(BufferedAnswer)
    }

    /// A `stream: false` answer being collected, with what its JSON body needs at the end.
    final class BufferedAnswer: @unchecked Sendable {
        var record: AccessRecord
        var collector: Dialect.Collector
        let exchange: ChatExchange
        let canonical: CanonicalRequest
        let requestedModel: String
        let started: NIODeadline

        init(record: AccessRecord, collector: Dialect.Collector, exchange: ChatExchange, canonical: CanonicalRequest, requestedModel: String, started: NIODeadline) {
            self.record = record
            self.collector = collector
            self.exchange = exchange
            self.canonical = canonical
            self.requestedModel = requestedModel
            self.started = started
        }
    }

    /// Auth → body → decode to the canonical request → route to a driver → tool protocol for
    /// text-only drivers → the exchange started.
    @inline(never)
    private func begin(_ request: Request, context: HostRequestContext, read: Result<[UInt8], ClientError>, started: NIODeadline) -> Begun {
        var record = AccessRecord(requestID: context.requestID, route: dialect.route)
        record.client = ClientClassifier.classify(headers: request.headers, request: nil)
        func fail(_ error: ClientError) -> Begun { .answered(self.fail(error, record: &record, started: started)) }

        let body: [UInt8]
        switch read {
        case .success(let bytes): body = bytes
        case .failure(let error): return fail(error)
        }
        host.logBody(body, requestID: context.requestID)

        var canonical: CanonicalRequest
        do { canonical = try dialect.decode(body, requestID: context.requestID) } catch { return fail(ClientError(error)) }
        let requestedModel = canonical.model
        canonical.model = dialect.servedModel(requestedModel, host: host)
        canonical.client = ClientClassifier.classify(headers: request.headers, request: canonical)
        canonical.session = SessionHints.make(
            headers: request.headers, request: canonical, mode: host.config.sessionKeyMode,
            keyHeader: host.config.sessionKeyHeader.flatMap { HTTPField.Name($0) })
        record.client = canonical.client
        record.model = canonical.model
        record.stream = canonical.stream
        record.toolsPresent = canonical.toolsPresent
        record.toolResults = canonical.messages.filter { $0.role == .tool }.count
        record.toolResultIDs = canonical.messages.compactMap { $0.role == .tool ? $0.toolCallID : nil }

        guard let driver = host.drivers.driver(for: canonical.model) else { return fail(.modelNotRouted(canonical.model)) }
        record.driver = driver.name
        // Text-only upstreams get the tool protocol in the prompt and history; for every driver a
        // tool result must answer an earlier call (a 400 naming the id otherwise).
        do {
            let rendered = try ToolHistoryRenderer.render(canonical)
            if !driver.capabilities.nativeTools { canonical = rendered }
        } catch { return fail(ClientError(error)) }
        if host.isDraining { return fail(.shuttingDown) }

        let exchange = ChatExchange(request: canonical, driver: driver, eventLoop: context.channel.eventLoop, limits: host.limits, inFlight: host.inFlight, receivedAt: started)
        guard exchange.start() else { return fail(.driverBroke("the driver \(driver.name) refused to start the stream")) }
        // The client leaving cancels the driver at once, even in the middle of a silence.
        exchange.watchClient(ConnectionRegistry.shared.state(for: context.channel))

        guard canonical.stream else {
            return .collecting(BufferedAnswer(
                record: record, collector: dialect.collector(), exchange: exchange, canonical: canonical, requestedModel: requestedModel, started: started))
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        return .streaming(StreamingResponder.State(
            encoder: dialect.streamEncoder(model: requestedModel, request: canonical, exchange: exchange),
            record: record, exchange: exchange, logger: host.logger, sseHeaders: headers,
            errorResponse: { [dialect] in dialect.errorResponse($0) }))
    }

    private func collect(_ answer: BufferedAnswer) async -> Response {
        let outcome = await BufferedResponder.collect(exchange: answer.exchange) { answer.collector.add($0) }
        return finish(answer, outcome)
    }

    /// The JSON answer (or error) once the exchange ended, with the access line.
    @inline(never)
    private func finish(_ answer: BufferedAnswer, _ outcome: BufferedResponder.Outcome) -> Response {
        let exchange = answer.exchange
        exchange.close()
        answer.record.upstreamStatus = exchange.upstreamStatus
        exchange.recordPhases(into: &answer.record)
        switch outcome {
        case .clientGone:
            answer.record.endReason = .clientAbort
            answer.record.httpStatus = 499
            answer.record.durationMs = exchange.elapsedMs()
            answer.record.write(to: host.logger)
            return Response(status: .init(code: 499))
        case .failed(let error):
            return fail(error, record: &answer.record, started: answer.started)
        case .answer(let finish):
            answer.record.endReason = .ok
            let bytes = dialect.body(of: answer.collector, model: answer.requestedModel, request: answer.canonical, finish: finish, exchange: exchange)
            answer.record.toolCalls = answer.collector.toolCallCount
            answer.record.toolCallIDs = answer.collector.toolCallIDs
            answer.record.chunks = 1
            let elapsed = exchange.elapsedMs()
            answer.record.ttfbMs = elapsed
            answer.record.durationMs = elapsed
            answer.record.write(to: host.logger)
            return HTTPResponses.json(bytes)
        }
    }

    /// The error answer in the dialect's envelope, with the access line.
    private func fail(_ error: ClientError, record: inout AccessRecord, started: NIODeadline) -> Response {
        record.endReason = error.endReason
        record.httpStatus = error.status
        record.errorMessage = error.message
        record.durationMs = Double((NIODeadline.now() - started).nanoseconds) / 1e6
        record.write(to: host.logger)
        return dialect.errorResponse(error)
    }

    static func now() -> Int { Int(Date().timeIntervalSince1970) }
}

extension HostServer {
    /// The model a Messages request is served as: MIX2API_MESSAGES_DEFAULT_MODEL when set and
    /// plugins.json names the requested model in no route of its own (Claude Code asks for
    /// `claude-…` ids, side requests included), else the requested model.
    func servedMessagesModel(_ requested: String) -> String {
        guard let fallback = config.messagesDefaultModel, !drivers.routesExplicitly(requested) else { return requested }
        return fallback
    }

    /// The inbound key checked, then the body read within BODY_SIZE_LIMIT.
    func authorizedBody(_ request: Request) async -> Result<[UInt8], ClientError> {
        if let denied = auth.authorize(request.headers) { return .failure(denied) }
        return await readBody(request)
    }

    func logBody(_ body: [UInt8], requestID: String) {
        guard config.logBodies else { return }
        logger.debug("request body", metadata: ["request_id": .string(requestID), "body": .string(Redactor.redact(String(decoding: body.prefix(4096), as: UTF8.self)))])
    }
}

extension ClientError {
    static func modelNotRouted(_ model: String) -> ClientError {
        ClientError(
            status: 404, type: "invalid_request_error", code: "model_not_found",
            message: "the model \"\(model)\" does not exist or is not routed to a driver", param: "model", endReason: .invalidRequest)
    }
}
