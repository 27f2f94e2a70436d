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

    func handle(_ request: Request, context: HostRequestContext) async -> Response {
        var record = AccessRecord(requestID: context.requestID, route: dialect.route)
        let started = NIODeadline.now()
        func fail(_ error: ClientError) -> Response {
            record.endReason = error.endReason
            record.httpStatus = error.status
            record.errorMessage = error.message
            record.durationMs = Double((NIODeadline.now() - started).nanoseconds) / 1e6
            record.write(to: host.logger)
            return dialect.errorResponse(error)
        }
        record.client = ClientClassifier.classify(headers: request.headers, request: nil)

        let body: [UInt8]
        switch await host.authorizedBody(request) {
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

        let exchange = ChatExchange(request: canonical, driver: driver, eventLoop: context.channel.eventLoop, limits: host.limits, inFlight: host.inFlight)
        guard exchange.start() else { return fail(.driverBroke("the driver \(driver.name) refused to start the stream")) }
        // The client leaving cancels the driver at once, even in the middle of a silence.
        exchange.watchClient(ConnectionRegistry.shared.state(for: context.channel))

        if canonical.stream {
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
            return await StreamingResponder.respond(
                exchange: exchange, encoder: dialect.streamEncoder(model: requestedModel, request: canonical, exchange: exchange),
                record: record, logger: host.logger, sseHeaders: headers, errorResponse: { [dialect] in dialect.errorResponse($0) })
        }

        var collector = dialect.collector()
        let outcome = await BufferedResponder.collect(exchange: exchange) { collector.add($0) }
        exchange.close()
        record.upstreamStatus = exchange.upstreamStatus
        switch outcome {
        case .clientGone:
            record.endReason = .clientAbort
            record.httpStatus = 499
            record.durationMs = exchange.elapsedMs()
            record.write(to: host.logger)
            return Response(status: .init(code: 499))
        case .failed(let error):
            return fail(error)
        case .answer(let finish):
            record.endReason = .ok
            let bytes = dialect.body(of: collector, model: requestedModel, request: canonical, finish: finish, exchange: exchange)
            record.toolCalls = collector.toolCallCount
            record.toolCallIDs = collector.toolCallIDs
            record.chunks = 1
            record.ttfbMs = exchange.elapsedMs()
            record.durationMs = record.ttfbMs!
            record.write(to: host.logger)
            return HTTPResponses.json(bytes)
        }
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
