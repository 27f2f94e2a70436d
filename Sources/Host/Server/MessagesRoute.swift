import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// `POST /v1/messages` (Claude Code adds `?beta=true`): Anthropic Messages in front of whichever
/// driver the model routes to, through the same canonical request, tool emulation, exchange and
/// streaming loop as Chat Completions; only the decoder, the encoders and the error envelope differ.
struct MessagesRoute: Sendable {
    let host: HostServer

    func handle(_ request: Request, context: HostRequestContext) async -> Response {
        var record = AccessRecord(requestID: context.requestID, route: "messages")
        let started = NIODeadline.now()
        func fail(_ error: ClientError) -> Response {
            record.endReason = error.endReason
            record.httpStatus = error.status
            record.errorMessage = error.message
            record.durationMs = Double((NIODeadline.now() - started).nanoseconds) / 1e6
            record.write(to: host.logger)
            return HTTPResponses.anthropicError(error)
        }
        record.client = ClientClassifier.classify(headers: request.headers, request: nil)

        if let denied = host.auth.authorize(request.headers) { return fail(denied) }
        let body: [UInt8]
        switch await host.readBody(request) {
        case .success(let bytes): body = bytes
        case .failure(let error): return fail(error)
        }
        host.logBody(body, requestID: context.requestID)

        var canonical: CanonicalRequest
        do { canonical = try AnthropicRequestDecoder.decode(body, requestID: context.requestID) } catch { return fail(ClientError(error)) }
        let requestedModel = canonical.model
        canonical.model = host.servedMessagesModel(requestedModel)
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
        // Text-only upstreams get the tool protocol in the prompt and history (the decoder has
        // already checked that every tool_result answers an earlier tool_use).
        do {
            let rendered = try ToolHistoryRenderer.render(canonical)
            if !driver.capabilities.nativeTools { canonical = rendered }
        } catch { return fail(ClientError(error)) }
        if host.isDraining { return fail(.shuttingDown) }

        let exchange = ChatExchange(request: canonical, driver: driver, eventLoop: context.channel.eventLoop, limits: host.limits, inFlight: host.inFlight)
        guard exchange.start() else { return fail(.driverBroke("the driver \(driver.name) refused to start the stream")) }
        exchange.watchClient(ConnectionRegistry.shared.state(for: context.channel))
        let messageID = Identifiers.anthropicMessageID()

        if canonical.stream {
            let encoder = AnthropicStreamEncoder(id: messageID, model: requestedModel, inputTokens: exchange.promptTokens)
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
            return await StreamingResponder.respond(
                exchange: exchange, encoder: encoder, record: record, logger: host.logger, sseHeaders: headers,
                errorResponse: { HTTPResponses.anthropicError($0) })
        }

        var collector = AnthropicResponseEncoder()
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
            let bytes = collector.body(
                id: messageID, model: requestedModel, finish: finish, promptTokens: exchange.promptTokens, completionTokens: exchange.completionTokens)
            record.toolCalls = collector.toolCallCount
            record.toolCallIDs = collector.toolCallIDs
            record.chunks = 1
            record.ttfbMs = exchange.elapsedMs()
            record.durationMs = record.ttfbMs!
            record.write(to: host.logger)
            return HTTPResponses.json(bytes)
        }
    }
}

extension HostServer {
    /// The model a Messages request is served as: MIX2API_MESSAGES_DEFAULT_MODEL when set and
    /// plugins.json names the requested model in no route of its own (Claude Code asks for
    /// `claude-…` ids, side requests included), else the requested model.
    func servedMessagesModel(_ requested: String) -> String {
        guard let fallback = config.messagesDefaultModel, !drivers.routesExplicitly(requested) else { return requested }
        return fallback
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
