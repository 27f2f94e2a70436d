import Hummingbird

/// What differs between the chat routes (Chat Completions, Anthropic Messages): how a body
/// decodes, how errors and answers are encoded. Everything else — auth, body limits, routing, tool
/// emulation, the exchange, timers, end_reason and the access record — is `ChatRoute`'s, once.
protocol ChatDialect: Sendable {
    associatedtype StreamEncoder: StreamingAnswerEncoder
    associatedtype Collector: AnswerCollector

    /// The access log's and the metrics' `route` label.
    var route: String { get }
    func decode(_ body: [UInt8], requestID: String) throws(InvalidRequest) -> CanonicalRequest
    /// The model the request is served as (the client still sees the one it asked for).
    func servedModel(_ requested: String, host: HostServer) -> String
    func errorResponse(_ error: ClientError) -> Response
    /// `model` is the one the client asked for.
    func streamEncoder(model: String, request: CanonicalRequest, exchange: ChatExchange) -> StreamEncoder
    func collector() -> Collector
    func body(of collector: Collector, model: String, request: CanonicalRequest, finish: FinishReason, exchange: ChatExchange) -> [UInt8]
}

/// A non-streamed answer being gathered from driver events.
protocol AnswerCollector {
    mutating func add(_ event: DriverEvent)
    var toolCallCount: Int { get }
    var toolCallIDs: [String] { get }
}

extension OpenAIResponseEncoder: AnswerCollector {}
extension AnthropicResponseEncoder: AnswerCollector {}

struct OpenAIChatDialect: ChatDialect {
    var route: String { "chat_completions" }

    func decode(_ body: [UInt8], requestID: String) throws(InvalidRequest) -> CanonicalRequest {
        try OpenAIRequestDecoder.decode(body, requestID: requestID)
    }

    func servedModel(_ requested: String, host: HostServer) -> String { requested }

    func errorResponse(_ error: ClientError) -> Response { HTTPResponses.openAIError(error) }

    func streamEncoder(model: String, request: CanonicalRequest, exchange: ChatExchange) -> OpenAIStreamEncoder {
        OpenAIStreamEncoder(id: Identifiers.chatCompletionID(), created: ChatRoute<Self>.now(), model: model, legacyFunctions: request.legacyFunctions)
    }

    func collector() -> OpenAIResponseEncoder { OpenAIResponseEncoder() }

    func body(of collector: OpenAIResponseEncoder, model: String, request: CanonicalRequest, finish: FinishReason, exchange: ChatExchange) -> [UInt8] {
        collector.body(
            id: Identifiers.chatCompletionID(), created: ChatRoute<Self>.now(), model: model, finish: finish,
            promptTokens: exchange.promptTokens, completionTokens: exchange.completionTokens, legacyFunctions: request.legacyFunctions)
    }
}

struct AnthropicMessagesDialect: ChatDialect {
    var route: String { "messages" }

    func decode(_ body: [UInt8], requestID: String) throws(InvalidRequest) -> CanonicalRequest {
        try AnthropicRequestDecoder.decode(body, requestID: requestID)
    }

    func servedModel(_ requested: String, host: HostServer) -> String { host.servedMessagesModel(requested) }

    func errorResponse(_ error: ClientError) -> Response { HTTPResponses.anthropicError(error) }

    func streamEncoder(model: String, request: CanonicalRequest, exchange: ChatExchange) -> AnthropicStreamEncoder {
        AnthropicStreamEncoder(id: Identifiers.anthropicMessageID(), model: model, inputTokens: exchange.promptTokens)
    }

    func collector() -> AnthropicResponseEncoder { AnthropicResponseEncoder() }

    func body(of collector: AnthropicResponseEncoder, model: String, request: CanonicalRequest, finish: FinishReason, exchange: ChatExchange) -> [UInt8] {
        collector.body(
            id: Identifiers.anthropicMessageID(), model: model, finish: finish,
            promptTokens: exchange.promptTokens, completionTokens: exchange.completionTokens)
    }
}
