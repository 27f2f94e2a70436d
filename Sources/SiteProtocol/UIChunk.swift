import JSONCore

/// One chunk of the site's answer stream (the Vercel AI SDK v5 UI-message stream), reduced to what
/// the driver needs. Everything else the protocol can send becomes `.ignored(type)`.
public enum SiteChunk: Sendable, Equatable {
    /// `start`: the site's ids for this answer (any of them may be missing).
    case start(messageID: String?, sessionID: String?, exchangeID: String?)
    case textDelta(String)
    case reasoningDelta(String)
    case toolInputStart(id: String, name: String)
    case toolInputDelta(id: String, fragment: String)
    case toolInputAvailable(id: String, name: String, input: JSONValue)
    /// `finish`, with its `finishReason` when the build sends one.
    case finish(reason: String?)
    /// Token counts from `data-usage` (or a `usage` object), nil where the site gave none.
    case usage(input: Int?, output: Int?)
    /// `message-metadata` (or metadata on another chunk) that carries session ids.
    case messageMetadata(sessionID: String?, exchangeID: String?)
    case error(String)
    case abort
    /// The literal `[DONE]` that ends some streams.
    case done
    /// A well-formed chunk of a type the driver does not use (never fatal).
    case ignored(String)
    /// A payload that is not a JSON object; holds its first characters for the log.
    case malformed(String)
}

/// Decodes SSE `data:` payloads into SiteChunks. Pure and total: any input gives chunks, never a
/// crash or a throw, because the site's stream is untrusted and new chunk types appear over time.
public enum UIChunkDecoder {
    /// Error texts reach the client; a runaway one is cut.
    static let maxErrorText = 1000
    static let malformedPrefix = 64

    /// Usually one chunk; two when a chunk also carries metadata the driver needs (a `finish` with
    /// session ids or usage in it), the extra one first.
    public static func decode(_ payload: String) -> [SiteChunk] {
        if let text = TextDeltaFastPath.delta(in: payload) { return [.textDelta(text)] }
        // Payloads rarely have surrounding space; skip the copy then (this runs once per token).
        let trimmed = payload.first?.isWhitespace == false && payload.last?.isWhitespace == false ? payload : payload.trimmingWhitespace()
        if trimmed == "[DONE]" { return [.done] }
        // An empty `data:` line is a keep-alive some proxies send, not garbage.
        if trimmed.isEmpty { return [.ignored("")] }
        guard let value = try? JSONParser.parse(trimmed), case .object = value else {
            return [.malformed(String(trimmed.prefix(malformedPrefix)))]
        }
        return decode(value)
    }

    public static func decode(_ chunk: JSONValue) -> [SiteChunk] {
        let type = chunk["type"]?.stringValue ?? ""
        switch type {
        case "start":
            let ids = sessionIDs(in: chunk)
            return [.start(messageID: chunk.firstString("messageId", "message_id", "id"), sessionID: ids.session, exchangeID: ids.exchange)]
        case "text-delta":
            return [.textDelta(chunk.firstString("delta", "textDelta", "text") ?? "")]
        case "reasoning-delta":
            return [.reasoningDelta(chunk.firstString("delta", "reasoningDelta", "text") ?? "")]
        case "tool-input-start":
            return [.toolInputStart(id: toolCallID(chunk), name: toolName(chunk))]
        case "tool-input-delta":
            return [.toolInputDelta(id: toolCallID(chunk), fragment: chunk.firstString("inputTextDelta", "delta") ?? "")]
        case "tool-input-available":
            let input = chunk["input"] ?? chunk["args"] ?? .object(JSONObject())
            return [.toolInputAvailable(id: toolCallID(chunk), name: toolName(chunk), input: input)]
        case "finish":
            var chunks: [SiteChunk] = []
            if let metadata = metadataChunk(chunk) { chunks.append(metadata) }
            if let usage = chunk["usage"] ?? chunk["messageMetadata"]?["usage"], let counts = tokenCounts(usage) {
                chunks.append(.usage(input: counts.input, output: counts.output))
            }
            chunks.append(.finish(reason: chunk.firstString("finishReason", "finish_reason")))
            return chunks
        case "data-usage":
            let counts = tokenCounts(chunk["data"] ?? .null) ?? tokenCounts(chunk) ?? (nil, nil)
            return [.usage(input: counts.input, output: counts.output)]
        case "message-metadata":
            return [metadataChunk(chunk) ?? .ignored(type)]
        case "error":
            let text = chunk.firstString("errorText", "error_text", "error", "message") ?? chunk["error"]?.firstString("message")
            return [.error((text ?? "the site reported an error without a message").truncated(to: maxErrorText))]
        case "abort":
            return [.abort]
        default:
            return [.ignored(type)]
        }
    }

    /// Session ids from `messageMetadata` (camelCase or snake_case) or the chunk's top level.
    static func sessionIDs(in chunk: JSONValue) -> (session: String?, exchange: String?) {
        let places = [chunk["messageMetadata"], chunk["message_metadata"], chunk].compactMap { $0 }
        let session = places.lazy.compactMap { $0.firstString("sessionId", "session_id") }.first
        let exchange = places.lazy.compactMap { $0.firstString("exchangeId", "exchange_id") }.first
        return (session, exchange)
    }

    private static func metadataChunk(_ chunk: JSONValue) -> SiteChunk? {
        let ids = sessionIDs(in: chunk)
        guard ids.session != nil || ids.exchange != nil else { return nil }
        return .messageMetadata(sessionID: ids.session, exchangeID: ids.exchange)
    }

    private static func toolCallID(_ chunk: JSONValue) -> String { chunk.firstString("toolCallId", "tool_call_id", "id") ?? "" }
    private static func toolName(_ chunk: JSONValue) -> String { chunk.firstString("toolName", "tool_name", "name") ?? "" }

    /// A tool input as the arguments text the host expects: JSON text as sent, an object
    /// serialized, and an empty or missing input as `{}` (a call always has arguments).
    static func argumentsText(_ input: JSONValue) -> String {
        switch input {
        case .string(let s): s.trimmingWhitespace().isEmpty ? "{}" : s
        case .null: "{}"
        default: input.serialized
        }
    }

    static let inputKeys = ["inputTokens", "prompt_tokens", "promptTokens", "input_tokens"]
    static let outputKeys = ["outputTokens", "completion_tokens", "completionTokens", "output_tokens"]

    /// Token counts under the common names, also one level down under `usage`. The real field names
    /// of `data-usage` are not known (see the protocol doc), so this looks wide rather than deep.
    static func tokenCounts(_ value: JSONValue) -> (input: Int?, output: Int?)? {
        for candidate in [value, value["usage"]].compactMap({ $0 }) {
            let input = candidate.firstInt(inputKeys)
            let output = candidate.firstInt(outputKeys)
            if input != nil || output != nil { return (input, output) }
        }
        return nil
    }
}
