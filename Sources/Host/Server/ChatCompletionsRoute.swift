import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// `POST /v1/chat/completions` (and `POST /`, as the old service had): OpenAI Chat Completions
/// in front of whichever driver the model routes to.
struct ChatCompletionsRoute: Sendable {
    let host: HostServer

    func handle(_ request: Request, context: HostRequestContext) async -> Response {
        var record = AccessRecord(requestID: context.requestID, route: "chat_completions")
        let started = NIODeadline.now()
        func fail(_ error: ClientError) -> Response {
            record.endReason = error.endReason
            record.httpStatus = error.status
            record.errorMessage = error.message
            record.durationMs = Double((NIODeadline.now() - started).nanoseconds) / 1e6
            record.write(to: host.logger)
            return HTTPResponses.openAIError(error)
        }
        record.client = ClientClassifier.classify(headers: request.headers, request: nil)

        if let denied = host.auth.authorize(request.headers) { return fail(denied) }
        let body: [UInt8]
        switch await host.readBody(request) {
        case .success(let bytes): body = bytes
        case .failure(let error): return fail(error)
        }
        if host.config.logBodies {
            host.logger.debug("request body", metadata: ["request_id": .string(context.requestID), "body": .string(Redactor.redact(String(decoding: body.prefix(4096), as: UTF8.self)))])
        }

        var canonical: CanonicalRequest
        do { canonical = try OpenAIRequestDecoder.decode(body, requestID: context.requestID) } catch { return fail(ClientError(error)) }
        canonical.client = ClientClassifier.classify(headers: request.headers, request: canonical)
        canonical.session = SessionHints.make(
            headers: request.headers, request: canonical, mode: host.config.sessionKeyMode,
            keyHeader: host.config.sessionKeyHeader.flatMap { HTTPField.Name($0) })
        record.client = canonical.client
        record.model = canonical.model
        record.stream = canonical.stream
        record.toolsPresent = canonical.toolsPresent
        record.toolResults = canonical.messages.filter { $0.role == .tool }.count

        guard let driver = host.drivers.driver(for: canonical.model) else {
            return fail(ClientError(
                status: 404, type: "invalid_request_error", code: "model_not_found",
                message: "the model \"\(canonical.model)\" does not exist or is not routed to a driver", param: "model", endReason: .invalidRequest))
        }
        record.driver = driver.name
        record.toolResultIDs = canonical.messages.compactMap { $0.role == .tool ? $0.toolCallID : nil }
        // Text-only upstreams get the tool protocol in the prompt and history; for every driver a
        // tool result must answer an earlier call (a 400 naming the id otherwise).
        do {
            let rendered = try ToolHistoryRenderer.render(canonical)
            if !driver.capabilities.nativeTools { canonical = rendered }
        } catch { return fail(ClientError(error)) }
        if host.isDraining {
            return fail(.shuttingDown)
        }

        let exchange = ChatExchange(request: canonical, driver: driver, eventLoop: context.channel.eventLoop, limits: host.limits, inFlight: host.inFlight)
        guard exchange.start() else {
            return fail(.driverBroke("the driver \(driver.name) refused to start the stream"))
        }
        // The client leaving cancels the driver at once, even in the middle of a silence.
        exchange.watchClient(ConnectionRegistry.shared.state(for: context.channel))

        if canonical.stream {
            let encoder = OpenAIStreamEncoder(id: Identifiers.chatCompletionID(), created: Self.now(), model: canonical.model, legacyFunctions: canonical.legacyFunctions)
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
            return await StreamingResponder.respond(
                exchange: exchange, encoder: encoder, record: record, logger: host.logger, sseHeaders: headers,
                errorResponse: { HTTPResponses.openAIError($0) })
        }

        var collector = OpenAIResponseEncoder()
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
                id: Identifiers.chatCompletionID(), created: Self.now(), model: canonical.model, finish: finish,
                promptTokens: exchange.promptTokens, completionTokens: exchange.completionTokens, legacyFunctions: canonical.legacyFunctions)
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
