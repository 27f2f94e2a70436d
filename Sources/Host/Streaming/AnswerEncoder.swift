/// What the streaming loop needs from a protocol's encoder (OpenAI SSE, Anthropic SSE).
/// Encoders turn events into bytes and never touch the network.
protocol StreamingAnswerEncoder: Sendable {
    var hasStarted: Bool { get }
    /// True once the final signal (finish chunk or error) has been encoded.
    var finished: Bool { get }
    var chunksSent: Int { get }
    var toolCallsSent: Int { get }
    var toolCallIDs: [String] { get }
    mutating func encode(_ event: DriverEvent, into out: inout [UInt8])
    mutating func finish(_ reason: FinishReason, promptTokens: Int, completionTokens: Int?, into out: inout [UInt8])
    mutating func fail(_ error: ClientError, into out: inout [UInt8])
    /// Bytes that keep idle proxies and clients' watchdogs from giving up (mutating: the
    /// Anthropic stream opens its message with the first one).
    mutating func keepAlive(into out: inout [UInt8])
}

extension OpenAIStreamEncoder: StreamingAnswerEncoder {
    mutating func fail(_ error: ClientError, into out: inout [UInt8]) {
        fail(message: error.message, type: error.type, code: error.code, into: &out)
    }

    func keepAlive(into out: inout [UInt8]) {
        out += Array(": ping\n\n".utf8)
    }
}

extension AnthropicStreamEncoder: StreamingAnswerEncoder {}
