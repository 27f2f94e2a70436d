import JSONCore

/// What the driver's configuration decides about every chat request.
public struct SiteRequestOptions: Sendable, Equatable {
    public var agentSlug: String
    /// `request.locale.location` and `.language`.
    public var localeLocation: String
    public var localeLanguage: String
    /// DEFAULT_PERSONA_ID; a per-request `session.persona_id` from the host wins over it.
    public var personaID: String?
    /// Sent as `request.modes`; nil leaves the field out. The default is what the doc shows.
    public var modes: JSONValue?
    public var isPersonalized: Bool
    public var contextWindow: Int
    public var maxInputTokens: Int
    public var maxNewTokens: Int
    public var reservedOutputTokens: Int
    /// How many recent turns go into `messages` besides `query` (the site answers from `query`).
    public var maxRecentMessages: Int

    /// `reservedOutputTokens` is the driver-wide TOKEN_BUDGET_DEFAULT_RESERVED_OUTPUT_TOKENS; a
    /// profile that names its own (MODEL_PROFILE_JSON `reserved_output_tokens`) wins over it.
    public init(
        profile: ModelProfile = .standard, reservedOutputTokens: Int = 1024, agentSlug: String = "web-general", localeLocation: String = "Asia/Shanghai",
        localeLanguage: String = "zh-CN", personaID: String? = nil, modes: JSONValue? = ["search": true], isPersonalized: Bool = true, maxRecentMessages: Int = 6
    ) {
        self.agentSlug = agentSlug
        self.localeLocation = localeLocation
        self.localeLanguage = localeLanguage
        self.personaID = personaID
        self.modes = modes
        self.isPersonalized = isPersonalized
        self.contextWindow = profile.contextWindow
        self.maxInputTokens = profile.maxInputTokens
        self.maxNewTokens = profile.maxNewTokens
        self.reservedOutputTokens = profile.reservedOutputTokens ?? reservedOutputTokens
        self.maxRecentMessages = maxRecentMessages
    }

    /// The input budget: what the model may read, minus what is kept free for its answer.
    public var inputTokenLimit: Int { max(1, maxInputTokens - reservedOutputTokens) }
}

/// A live site session to continue: the site holds the history, so only the new turns are sent.
public struct SiteContinuation: Sendable, Equatable {
    public var sessionID: String
    public var exchangeID: String
    /// Index in the request's messages where the turns the site has not seen begin
    /// (`ConversationKey.newMessagesStart`).
    public var newMessagesStart: Int

    public init(sessionID: String, exchangeID: String, newMessagesStart: Int) {
        self.sessionID = sessionID
        self.exchangeID = exchangeID
        self.newMessagesStart = newMessagesStart
    }
}

public enum SiteRequestError: Error, Equatable, CustomStringConvertible {
    /// Even the system prompt and the newest turn do not fit the model's input budget.
    case contextLengthExceeded(estimated: Int, limit: Int)
    /// The canonical request lacks something the site needs.
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .contextLengthExceeded(let estimated, let limit):
            "the conversation needs about \(estimated) tokens but the model accepts \(limit); shorten the system prompt or the last message"
        case .invalidRequest(let why): why
        }
    }
}

/// The chat request, built, with what the driver logs or estimates from it.
public struct SiteRequest: Sendable {
    /// The JSON body for `POST {UPSTREAM_API_BASE}{UPSTREAM_CHAT_PATH}`.
    public var body: [UInt8]
    public var query: String
    /// The estimated tokens of `query`: the prompt count when the site reports no usage.
    public var estimatedInputTokens: Int
    /// Whole-history requests only: how many old turns did not fit the budget.
    public var droppedTurns: Int
    /// The body continues the given site session (false also when a continuation was given but
    /// had nothing new to send, see `prepare`).
    public var continued: Bool
}

/// Builds the site's chat request from the host's canonical request (Sources/PluginABI/README.md).
/// The site answers from `query` plus its own server-side history, so `query` carries either just
/// the new turn (continuing a session) or the whole conversation rendered compactly (a new session).
public enum SiteRequestBuilder {
    /// The JSON body for the chat endpoint.
    public static func build(request: JSONValue, options: SiteRequestOptions, continuation: SiteContinuation? = nil) throws(SiteRequestError) -> [UInt8] {
        try prepare(request: request, options: options, continuation: continuation).body
    }

    /// The body plus what the driver may log or use as a prompt-token estimate. A continuation
    /// whose new part is empty (the conversation ends with an assistant message, e.g. a prefill)
    /// cannot be sent as a continuation — the site would get an empty query — so the whole history
    /// goes instead, without session ids, and the site opens a new session.
    public static func prepare(request: JSONValue, options: SiteRequestOptions, continuation: SiteContinuation? = nil) throws(SiteRequestError) -> SiteRequest {
        guard let model = request["model"]?.stringValue, !model.isEmpty else { throw .invalidRequest("the request has no model") }
        guard let messages = request["messages"]?.arrayValue else { throw .invalidRequest("the request has no messages") }
        let limit = options.inputTokenLimit

        var query = ""
        var recent: [JSONValue] = []
        var dropped = 0
        var continuation = continuation
        if let c = continuation {
            let new = Array(messages.dropFirst(min(max(0, c.newMessagesStart), messages.count)))
            let blocks = new.compactMap { renderNewTurn($0) }
            if blocks.isEmpty {
                continuation = nil
            } else {
                query = blocks.joined(separator: "\n\n")
                let estimated = estimateTokens(query)
                if estimated > limit { throw .contextLengthExceeded(estimated: estimated, limit: limit) }
                recent = new.compactMap(recentMessage)
            }
        }
        if continuation == nil {
            let fitted = try fitHistory(messages, limit: limit)
            query = fitted.query
            dropped = fitted.dropped
            recent = Array(fitted.kept.compactMap(recentMessage).suffix(max(0, options.maxRecentMessages)))
        }

        var inner = JSONObject()
        inner["agent_slug"] = .string(options.agentSlug)
        inner["model_slug"] = .string(modelSlug(model))
        inner["locale"] = ["location": .string(options.localeLocation), "language": .string(options.localeLanguage)]
        if let persona = request["session"]?["persona_id"]?.stringValue ?? options.personaID, !persona.isEmpty {
            inner["persona_id"] = .string(persona)
        }
        if let modes = options.modes { inner["modes"] = modes }
        inner["query"] = .string(query)

        var root = JSONObject()
        root["request"] = .object(inner)
        root["is_personalized"] = .bool(options.isPersonalized)
        root["stream"] = .bool(request["stream"]?.boolValue ?? true)
        root["messages"] = .array(recent)
        // A first turn never carries ids: the site creates the session and names it in its answer.
        if let continuation {
            root["session_id"] = .string(continuation.sessionID)
            if !continuation.exchangeID.isEmpty { root["exchange_id"] = .string(continuation.exchangeID) }
        }
        if case .number? = request["temperature"] { root["temperature"] = request["temperature"] }
        if case .number? = request["top_p"] { root["top_p"] = request["top_p"] }
        let asked = request["max_tokens"]?.intValue ?? options.maxNewTokens
        root["max_tokens"] = .number(String(max(1, min(asked, options.maxNewTokens))))

        var body: [UInt8] = []
        body.reserveCapacity(query.utf8.count + 512)
        JSONWriter.append(.object(root), to: &body)
        return SiteRequest(body: body, query: query, estimatedInputTokens: estimateTokens(query), droppedTurns: dropped, continued: continuation != nil)
    }

    /// `mix/qwen-3-235b-instruct` → `qwen-3-235b-instruct`: the first path segment is the provider.
    public static func modelSlug(_ model: String) -> String {
        guard let slash = model.firstIndex(of: "/") else { return model }
        let rest = model[model.index(after: slash)...]
        return rest.isEmpty ? model : String(rest)
    }

    /// The host's estimate (Sources/Host/Canonical/TokenEstimator.swift): about four ASCII
    /// characters per token, one token per non-ASCII character (CJK text is mostly that).
    public static func estimateTokens(_ text: String) -> Int {
        var ascii = 0
        var other = 0
        // The contiguous bytes: iterating the UTF-8 view checks every step, and prompts are kilobytes.
        var text = text
        text.withUTF8 { bytes in
            for b in bytes {
                if b < 0x80 { ascii += 1 } else if b & 0xC0 != 0x80 { other += 1 }
            }
        }
        return (ascii + 3) / 4 + other
    }

    // MARK: - Whole history (no live session)

    /// The newest turns that fit, oldest dropped first. The system prompt and the last user turn are
    /// never dropped (without them the answer is meaningless); when they alone do not fit, the request
    /// fails with a context-length error instead of silently losing the question.
    static func fitHistory(_ messages: [JSONValue], limit: Int) throws(SiteRequestError) -> (query: String, kept: [JSONValue], dropped: Int) {
        let system = messages.filter { $0["role"]?.stringValue == "system" }.map { text($0["content"]) }.filter { !$0.isEmpty }
        let systemBlock = system.isEmpty ? nil : "[system]\n" + system.joined(separator: "\n\n")
        let turns = messages.filter { $0["role"]?.stringValue != "system" }
        let blocks = turns.map(renderTurn)
        let costs = blocks.map { estimateTokens($0) + 1 }  // +1: the blank line between blocks

        var keep = [Bool](repeating: false, count: turns.count)
        var used = systemBlock.map { estimateTokens($0) + 1 } ?? 0
        // Pinned: the last user turn, and the very last turn (a tool result the answer needs).
        let lastUser = turns.lastIndex { $0["role"]?.stringValue == "user" }
        for pinned in Set([lastUser, turns.indices.last].compactMap { $0 }) {
            keep[pinned] = true
            used += costs[pinned]
        }
        if used > limit { throw .contextLengthExceeded(estimated: used, limit: limit) }
        // Newest first; the first turn that does not fit ends the walk (history stays contiguous).
        // When something will be dropped, room is kept for the (at most two) omission markers.
        let total = (systemBlock.map { estimateTokens($0) + 1 } ?? 0) + costs.reduce(0, +)
        let walkLimit = total <= limit ? limit : limit - 2 * (estimateTokens(omitted(9999)) + 1)
        for i in turns.indices.reversed() where !keep[i] {
            if used + costs[i] > walkLimit { break }
            keep[i] = true
            used += costs[i]
        }

        var parts: [String] = systemBlock.map { [$0] } ?? []
        var gap = 0
        for i in turns.indices {
            if keep[i] {
                if gap > 0 { parts.append(omitted(gap)) }
                gap = 0
                parts.append(blocks[i])
            } else {
                gap += 1
            }
        }
        let kept = turns.indices.filter { keep[$0] }.map { turns[$0] }
        return (parts.joined(separator: "\n\n"), kept, turns.count - kept.count)
    }

    /// Where turns were dropped, the model is told so: a reply to a question it cannot see
    /// would otherwise look like the start of the conversation.
    static func omitted(_ count: Int) -> String { "[\(count) earlier turn\(count == 1 ? "" : "s") omitted]" }

    /// One turn of the whole-history transcript.
    static func renderTurn(_ message: JSONValue) -> String {
        switch message["role"]?.stringValue ?? "user" {
        case "tool": return toolResult(message)
        case "assistant":
            let content = text(message["content"])
            let calls = (message["tool_calls"]?.arrayValue ?? []).map(toolCall)
            return "[assistant]\n" + ((content.isEmpty ? [] : [content]) + calls).joined(separator: "\n")
        case let role: return "[\(role)]\n" + text(message["content"])
        }
    }

    /// One new turn when continuing: the site already has the history and the roles are implied.
    static func renderNewTurn(_ message: JSONValue) -> String? {
        switch message["role"]?.stringValue ?? "user" {
        case "tool": return toolResult(message)
        case "user":
            let content = text(message["content"])
            return content.isEmpty ? nil : content
        case "system":
            let content = text(message["content"])
            return content.isEmpty ? nil : "[system]\n" + content
        default: return nil  // the site's own answers are in its history already
        }
    }

    /// A turn for the short `messages` list: the site takes user/assistant roles, so a tool result
    /// goes in as a user turn holding its rendering.
    static func recentMessage(_ message: JSONValue) -> JSONValue? {
        let role = message["role"]?.stringValue ?? "user"
        switch role {
        case "tool": return ["role": "user", "content": .string(toolResult(message))]
        case "assistant":
            var content = text(message["content"])
            for call in message["tool_calls"]?.arrayValue ?? [] { content += (content.isEmpty ? "" : "\n") + toolCall(call) }
            return ["role": "assistant", "content": .string(content)]
        case "user": return ["role": "user", "content": .string(text(message["content"]))]
        default: return nil
        }
    }

    static func toolResult(_ message: JSONValue) -> String {
        var open = "<tool_result name=\"\(attribute(message["name"]?.stringValue ?? ""))\" id=\"\(attribute(message["tool_call_id"]?.stringValue ?? ""))\""
        if message["is_error"]?.boolValue == true { open += " error=\"true\"" }
        return open + ">" + text(message["content"]) + "</tool_result>"
    }

    static func toolCall(_ call: JSONValue) -> String {
        let function = call["function"] ?? call
        let arguments = function["arguments"].map { $0.stringValue ?? $0.serialized } ?? "{}"
        return "<tool_call name=\"\(attribute(function["name"]?.stringValue ?? ""))\" id=\"\(attribute(call["id"]?.stringValue ?? ""))\">" + arguments + "</tool_call>"
    }

    private static func attribute(_ s: String) -> String {
        s.contains("\"") || s.contains("<") || s.contains("&") ? s.replacing("&", with: "&amp;").replacing("\"", with: "&quot;").replacing("<", with: "&lt;") : s
    }

    private static func text(_ value: JSONValue?) -> String { ConversationKey.content(value) }
}
