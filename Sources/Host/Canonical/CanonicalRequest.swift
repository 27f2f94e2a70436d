/// The one request type in the middle of the host. Front ends (OpenAI, Anthropic) build it; the
/// tool protocol rewrites it; drivers receive it as JSON (Sources/PluginABI/README.md).
public struct CanonicalRequest: Sendable {
    public enum Role: String, Sendable { case system, user, assistant, tool }

    public struct ToolCall: Sendable, Equatable {
        public var id: String
        public var name: String
        public var arguments: String  // JSON text
    }

    public struct Message: Sendable {
        public var role: Role
        public var content: String
        public var reasoning: String?
        public var toolCalls: [ToolCall] = []
        public var toolCallID: String?
        public var name: String?
        public var isError: Bool = false
    }

    public struct Tool: Sendable, Equatable {
        public var name: String
        public var description: String
        public var parameters: JSONValue
    }

    public enum ToolChoice: Sendable, Equatable {
        case auto, none, required
        case function(String)
    }

    /// Which client shape the answer must take (also decides the tool call id prefix).
    public enum Frontend: String, Sendable { case openai, anthropic }

    public var requestID: String
    public var model: String
    public var stream: Bool
    public var client: ClientKind = .other
    public var frontend: Frontend = .openai
    public var messages: [Message]
    public var tools: [Tool] = []
    public var toolChoice: ToolChoice = .auto
    public var parallelToolCalls = true
    /// The client used the legacy `functions` / `function_call` fields and wants that shape back.
    public var legacyFunctions = false
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var stop: [String] = []
    /// Body fields the old service accepted beside the OpenAI ones.
    public var bodyHints = BodyHints()
    /// Set by the route once the client is known (see SessionHints).
    public var session: SessionHints?

    public struct BodyHints: Sendable {
        public var sessionID: String?
        public var personaID: String?
        public var upstreamBaseURL: String?
    }

    public var toolsPresent: Bool { !tools.isEmpty }
}

extension CanonicalRequest {
    /// The JSON handed to a driver's `start` (schema in Sources/PluginABI/README.md).
    func driverJSON(toolMode: String) -> [UInt8] {
        var root = JSONObject()
        root["request_id"] = .string(requestID)
        root["model"] = .string(model)
        root["stream"] = .bool(stream)
        root["client"] = .string(client.rawValue)
        root["messages"] = .array(messages.map(\.json))
        root["tools"] = .array(tools.map { .object(JSONObject([("name", .string($0.name)), ("description", .string($0.description)), ("parameters", $0.parameters)])) })
        root["tool_mode"] = .string(toolMode)
        switch toolChoice {
        case .auto: root["tool_choice"] = ["mode": "auto"]
        case .none: root["tool_choice"] = ["mode": "none"]
        case .required: root["tool_choice"] = ["mode": "required"]
        case .function(let name): root["tool_choice"] = ["mode": "function", "name": .string(name)]
        }
        root["parallel_tool_calls"] = .bool(parallelToolCalls)
        if let maxTokens { root["max_tokens"] = .number(String(maxTokens)) }
        if let temperature { root["temperature"] = .number(String(temperature)) }
        if let topP { root["top_p"] = .number(String(topP)) }
        if !stop.isEmpty { root["stop"] = .array(stop.map { .string($0) }) }
        if let session {
            root["session"] = session.json
            // Secret: drivers in pass-through auth mode send it upstream; none may log it.
            if let credential = session.inboundCredential { root["inbound_credential"] = .string(credential) }
        }
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        JSONWriter.append(.object(root), to: &out)
        return out
    }
}

extension CanonicalRequest.Message {
    var json: JSONValue {
        var o = JSONObject()
        o["role"] = .string(role.rawValue)
        o["content"] = .string(content)
        if let reasoning { o["reasoning"] = .string(reasoning) }
        if !toolCalls.isEmpty {
            o["tool_calls"] = .array(toolCalls.map { ["id": .string($0.id), "name": .string($0.name), "arguments": .string($0.arguments)] })
        }
        if let toolCallID { o["tool_call_id"] = .string(toolCallID) }
        if let name { o["name"] = .string(name) }
        if role == .tool { o["is_error"] = .bool(isError) }
        return .object(o)
    }
}
