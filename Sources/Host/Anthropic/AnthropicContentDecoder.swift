/// One Anthropic message → canonical messages. A user message may carry tool results and text;
/// they become `tool` messages and `user` messages in their order (the tool protocol renders a
/// run of results together with the text after it). An assistant message's `tool_use` blocks
/// become its tool calls, `thinking` its reasoning.
enum AnthropicContentDecoder {
    /// The tool_use blocks seen so far: a tool_result must answer one of them.
    struct SeenCalls {
        var names: [String: String] = [:]  // id → tool name
    }

    static func message(_ value: JSONValue, path: String, calls: inout SeenCalls) throws(InvalidRequest) -> [CanonicalRequest.Message] {
        guard let m = value.objectValue else { throw InvalidRequest("\(path) must be an object, got \(value.typeName)", param: path) }
        guard let roleValue = m["role"] else { throw InvalidRequest("\(path).role is required", param: "\(path).role") }
        guard let role = roleValue.stringValue else { throw InvalidRequest("\(path).role must be a string", param: "\(path).role") }
        let contentPath = "\(path).content"
        guard let content = m["content"] else { throw InvalidRequest("\(contentPath) is required", param: contentPath) }
        switch role {
        case "user":
            return try userMessages(content, path: contentPath, calls: calls)
        case "assistant":
            return [try assistantMessage(content, path: contentPath, calls: &calls)]
        case "system":
            // Not in Anthropic's API, but Claude Code sends environment notes this way.
            return [.init(role: .system, content: try plainText(content, path: contentPath))]
        default:
            throw InvalidRequest("\(path).role \"\(role)\" is not one of user, assistant", param: "\(path).role")
        }
    }

    // MARK: Roles

    private static func userMessages(_ content: JSONValue, path: String, calls: SeenCalls) throws(InvalidRequest) -> [CanonicalRequest.Message] {
        if case .string(let s) = content { return [.init(role: .user, content: s)] }
        let blocks = try blockList(content, path: path)
        var out: [CanonicalRequest.Message] = []
        var text: [String] = []
        func flushText() {
            if !text.isEmpty { out.append(.init(role: .user, content: text.joined(separator: "\n\n"))) }
            text = []
        }
        for (i, block) in blocks.enumerated() {
            let p = "\(path)[\(i)]"
            let b = try object(block, path: p)
            if b.type == "tool_result" {
                flushText()
                out.append(try toolResult(b.fields, path: p, calls: calls))
            } else if let t = try blockText(b, path: p) {
                text.append(t)
            }
        }
        flushText()
        // A user turn of nothing but unsupported blocks still counts as a (blank) turn.
        return out.isEmpty ? [.init(role: .user, content: "")] : out
    }

    private static func assistantMessage(_ content: JSONValue, path: String, calls: inout SeenCalls) throws(InvalidRequest) -> CanonicalRequest.Message {
        var message = CanonicalRequest.Message(role: .assistant, content: "")
        if case .string(let s) = content {
            message.content = s
            return message
        }
        var text: [String] = []
        var reasoning: [String] = []
        for (i, block) in try blockList(content, path: path).enumerated() {
            let p = "\(path)[\(i)]"
            let b = try object(block, path: p)
            switch b.type {
            case "tool_use":
                guard let id = b.fields["id"]?.stringValue, !id.isEmpty else { throw InvalidRequest("\(p).id must be a non-empty string", param: "\(p).id") }
                guard let name = b.fields["name"]?.stringValue, !name.isEmpty else { throw InvalidRequest("\(p).name must be a non-empty string", param: "\(p).name") }
                let input = b.fields["input"] ?? .object(JSONObject())
                guard input.objectValue != nil else { throw InvalidRequest("\(p).input must be an object, got \(input.typeName)", param: "\(p).input") }
                calls.names[id] = name
                message.toolCalls.append(.init(id: id, name: name, arguments: input.serialized))
            case "thinking":
                if let t = b.fields["thinking"]?.stringValue, !t.isEmpty { reasoning.append(t) }
            default:
                if let t = try blockText(b, path: p) { text.append(t) }
            }
        }
        message.content = text.joined(separator: "\n\n")
        if !reasoning.isEmpty { message.reasoning = reasoning.joined(separator: "\n\n") }
        return message
    }

    /// `{"type":"tool_result","tool_use_id","content": string | blocks,"is_error"?}`.
    private static func toolResult(_ b: JSONObject, path p: String, calls: SeenCalls) throws(InvalidRequest) -> CanonicalRequest.Message {
        guard let id = b["tool_use_id"]?.stringValue, !id.isEmpty else {
            throw InvalidRequest("\(p).tool_use_id must be a non-empty string", param: "\(p).tool_use_id")
        }
        guard let name = calls.names[id] else {
            throw InvalidRequest("\(p).tool_use_id \"\(id)\" does not match any earlier tool_use block", param: "\(p).tool_use_id")
        }
        var message = CanonicalRequest.Message(role: .tool, content: "")
        if let content = b["content"], !content.isNull {
            message.content = try plainText(content, path: "\(p).content")
        }
        message.toolCallID = id
        message.name = name
        message.isError = try OpenAIRequestDecoder.optionalBool(b, "is_error", path: "\(p).is_error") ?? false
        return message
    }

    // MARK: Blocks

    private static func blockList(_ content: JSONValue, path: String) throws(InvalidRequest) -> [JSONValue] {
        guard let blocks = content.arrayValue else {
            throw InvalidRequest("\(path) must be a string or an array of content blocks, got \(content.typeName)", param: path)
        }
        return blocks
    }

    private static func object(_ block: JSONValue, path: String) throws(InvalidRequest) -> (type: String, fields: JSONObject) {
        guard let b = block.objectValue else { throw InvalidRequest("\(path) must be a content block object, got \(block.typeName)", param: path) }
        guard let type = b["type"]?.stringValue else { throw InvalidRequest("\(path).type must be a string", param: "\(path).type") }
        return (type, b)
    }

    /// A string, or blocks of which text counts and media become placeholders (tool results,
    /// system notes).
    private static func plainText(_ content: JSONValue, path: String) throws(InvalidRequest) -> String {
        if case .string(let s) = content { return s }
        var parts: [String] = []
        for (i, block) in try blockList(content, path: path).enumerated() {
            if let t = try blockText(try object(block, path: "\(path)[\(i)]"), path: "\(path)[\(i)]") { parts.append(t) }
        }
        return parts.joined(separator: "\n\n")
    }

    /// The text a block contributes: its text, a placeholder for media the upstream cannot see,
    /// nil for blocks that carry nothing for a text model (redacted thinking, server tool blocks…).
    private static func blockText(_ b: (type: String, fields: JSONObject), path p: String) throws(InvalidRequest) -> String? {
        switch b.type {
        case "text":
            guard let t = b.fields["text"]?.stringValue else { throw InvalidRequest("\(p).text must be a string", param: "\(p).text") }
            return t
        case "image": return "[image]"
        case "document": return "[document]"
        default: return nil
        }
    }
}
