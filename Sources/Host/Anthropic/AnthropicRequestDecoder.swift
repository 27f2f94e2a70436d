/// Anthropic Messages JSON → CanonicalRequest (`POST /v1/messages` and its `count_tokens`).
/// Accepts everything Claude Code sends (client-contracts.md, "Anthropic Messages"): `system` as a
/// string or blocks, content blocks, tools with `input_schema`, `tool_choice`, `thinking`,
/// `metadata`, `cache_control` and fields it does not know. What cannot be honoured is ignored;
/// anything wrong is a 400 naming the field (`messages[2].content[0].tool_use_id`).
public enum AnthropicRequestDecoder {
    /// `requireMaxTokens`: false for count_tokens, which has no answer to bound.
    public static func decode(_ body: [UInt8], requestID: String, requireMaxTokens: Bool = true) throws(InvalidRequest) -> CanonicalRequest {
        let root: JSONValue
        do { root = try JSONParser.parse(body) } catch { throw InvalidRequest("request body is not valid JSON: \(error.description)") }
        guard let o = root.objectValue else { throw InvalidRequest("request body must be a JSON object, got \(root.typeName)") }

        guard let modelValue = o["model"] else { throw InvalidRequest("missing required field: model", param: "model") }
        guard let model = modelValue.stringValue, !model.isEmpty else {
            throw InvalidRequest("model must be a non-empty string, got \(modelValue.typeName)", param: "model")
        }
        let stream = try OpenAIRequestDecoder.optionalBool(o, "stream") ?? false
        let maxTokens = try OpenAIRequestDecoder.optionalPositiveInt(o, "max_tokens")
        if requireMaxTokens, maxTokens == nil { throw InvalidRequest("missing required field: max_tokens", param: "max_tokens") }

        var messages: [CanonicalRequest.Message] = []
        if let system = try systemText(o["system"]), !system.isEmpty {
            messages.append(.init(role: .system, content: system))
        }
        guard let messagesValue = o["messages"] else { throw InvalidRequest("missing required field: messages", param: "messages") }
        guard let rawMessages = messagesValue.arrayValue else { throw InvalidRequest("messages must be an array, got \(messagesValue.typeName)", param: "messages") }
        guard !rawMessages.isEmpty else { throw InvalidRequest("messages must not be empty", param: "messages") }
        var calls = AnthropicContentDecoder.SeenCalls()
        for (i, m) in rawMessages.enumerated() {
            messages += try AnthropicContentDecoder.message(m, path: "messages[\(i)]", calls: &calls)
        }

        var request = CanonicalRequest(requestID: requestID, model: model, stream: stream, messages: messages)
        request.frontend = .anthropic
        request.maxTokens = maxTokens
        request.tools = try tools(o["tools"])
        (request.toolChoice, request.parallelToolCalls) = try toolChoice(o["tool_choice"], tools: request.tools)
        request.temperature = try OpenAIRequestDecoder.optionalNumber(o, "temperature")
        request.topP = try OpenAIRequestDecoder.optionalNumber(o, "top_p")
        request.stop = try stopSequences(o["stop_sequences"])
        for key in ["metadata", "thinking"] {
            // Accepted for their shape only: the upstream decides how (and whether) it thinks.
            if let v = o[key], !v.isNull, v.objectValue == nil { throw InvalidRequest("\(key) must be an object, got \(v.typeName)", param: key) }
        }
        request.bodyHints = .init(
            sessionID: o["session_id"]?.stringValue, personaID: o["persona_id"]?.stringValue, upstreamBaseURL: o["upstream_base_url"]?.stringValue)
        return request
    }

    /// `system`: a string, or text blocks (each may carry `cache_control`), joined by blank lines.
    static func systemText(_ value: JSONValue?) throws(InvalidRequest) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case .array(let blocks)?:
            var parts: [String] = []
            for (i, block) in blocks.enumerated() {
                let p = "system[\(i)]"
                guard let b = block.objectValue else { throw InvalidRequest("\(p) must be a text block object, got \(block.typeName)", param: p) }
                guard b["type"]?.stringValue ?? "text" == "text" else { continue }
                guard let text = b["text"]?.stringValue else { throw InvalidRequest("\(p).text must be a string", param: "\(p).text") }
                parts.append(text)
            }
            return parts.joined(separator: "\n\n")
        case let other?:
            throw InvalidRequest("system must be a string or an array of text blocks, got \(other.typeName)", param: "system")
        }
    }

    // MARK: Tools

    /// Custom tools (`type` absent or `custom`) with an `input_schema`. Anthropic's own tool
    /// types (web search, code execution…) and tools deferred to a tool search
    /// (`defer_loading: true`) are not offered to the model; they are tolerated, not fatal.
    static func tools(_ value: JSONValue?) throws(InvalidRequest) -> [CanonicalRequest.Tool] {
        guard let value, !value.isNull else { return [] }
        guard let list = value.arrayValue else { throw InvalidRequest("tools must be an array, got \(value.typeName)", param: "tools") }
        var out: [CanonicalRequest.Tool] = []
        for (i, item) in list.enumerated() {
            let p = "tools[\(i)]"
            guard let tool = item.objectValue else { throw InvalidRequest("\(p) must be an object", param: p) }
            let type = tool["type"]?.stringValue ?? "custom"
            guard type == "custom" else { continue }
            if tool["defer_loading"]?.boolValue == true { continue }
            guard let name = tool["name"]?.stringValue, !name.isEmpty else { throw InvalidRequest("\(p).name must be a non-empty string", param: "\(p).name") }
            guard let schema = tool["input_schema"] else { throw InvalidRequest("\(p).input_schema is required", param: "\(p).input_schema") }
            guard schema.objectValue != nil else { throw InvalidRequest("\(p).input_schema must be a JSON schema object, got \(schema.typeName)", param: "\(p).input_schema") }
            if let d = tool["description"], !d.isNull, d.stringValue == nil { throw InvalidRequest("\(p).description must be a string", param: "\(p).description") }
            out.append(.init(name: name, description: tool["description"]?.stringValue ?? "", parameters: schema))
        }
        var seen = Set<String>()
        for (i, tool) in out.enumerated() where !seen.insert(tool.name).inserted {
            throw InvalidRequest("tool name \"\(tool.name)\" is declared twice", param: "tools[\(i)].name")
        }
        return out
    }

    /// `{"type": "auto" | "any" | "tool" | "none", "name"?, "disable_parallel_tool_use"?}`.
    static func toolChoice(_ value: JSONValue?, tools: [CanonicalRequest.Tool]) throws(InvalidRequest) -> (CanonicalRequest.ToolChoice, parallel: Bool) {
        guard let value, !value.isNull else { return (.auto, true) }
        guard let c = value.objectValue else { throw InvalidRequest("tool_choice must be an object, got \(value.typeName)", param: "tool_choice") }
        let parallel = !(try OpenAIRequestDecoder.optionalBool(c, "disable_parallel_tool_use", path: "tool_choice.disable_parallel_tool_use") ?? false)
        guard let type = c["type"]?.stringValue else { throw InvalidRequest("tool_choice.type must be a string", param: "tool_choice.type") }
        switch type {
        case "auto": return (.auto, parallel)
        case "none": return (.none, parallel)
        case "any":
            if tools.isEmpty { throw InvalidRequest("tool_choice any asks for a tool call but no tools were given", param: "tool_choice") }
            return (.required, parallel)
        case "tool":
            guard let name = c["name"]?.stringValue, !name.isEmpty else { throw InvalidRequest("tool_choice.name must be a non-empty string", param: "tool_choice.name") }
            guard tools.contains(where: { $0.name == name }) else {
                throw InvalidRequest("tool_choice names the tool \"\(name)\", which is not in tools", param: "tool_choice.name")
            }
            return (.function(name), parallel)
        default:
            throw InvalidRequest("tool_choice.type \"\(type)\" is not one of auto, any, tool, none", param: "tool_choice.type")
        }
    }

    static func stopSequences(_ value: JSONValue?) throws(InvalidRequest) -> [String] {
        guard let value, !value.isNull else { return [] }
        guard let items = value.arrayValue else { throw InvalidRequest("stop_sequences must be an array of strings", param: "stop_sequences") }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard let s = item.stringValue else { throw InvalidRequest("stop_sequences[\(i)] must be a string", param: "stop_sequences[\(i)]") }
            out.append(s)
        }
        return out
    }
}
