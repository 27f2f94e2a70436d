/// A request the client must fix, with the field it concerns (OpenAI's `param`).
public struct InvalidRequest: Error, Sendable, Equatable {
    public var message: String
    public var param: String?
    public var code: String?
    public var status: Int = 400

    public init(_ message: String, param: String? = nil, code: String? = nil, status: Int = 400) {
        self.message = message
        self.param = param
        self.code = code
        self.status = status
    }
}

/// Chat Completions JSON → CanonicalRequest. Accepts every shape the agents send (see
/// client-contracts.md), ignores what cannot be honoured, and names the field of anything wrong.
public enum OpenAIRequestDecoder {
    public static func decode(_ body: [UInt8], requestID: String) throws(InvalidRequest) -> CanonicalRequest {
        let root: JSONValue
        do { root = try JSONParser.parse(body) } catch { throw InvalidRequest("request body is not valid JSON: \(error.description)") }
        guard let o = root.objectValue else { throw InvalidRequest("request body must be a JSON object, got \(root.typeName)") }

        guard let modelValue = o["model"] else { throw InvalidRequest("missing required field: model", param: "model") }
        guard let model = modelValue.stringValue, !model.isEmpty else {
            throw InvalidRequest("model must be a non-empty string, got \(modelValue.typeName)", param: "model")
        }
        let stream = try optionalBool(o, "stream") ?? false
        if let n = o["n"], !n.isNull {
            guard let count = n.intValue else { throw InvalidRequest("n must be an integer", param: "n") }
            if count != 1 { throw InvalidRequest("n = \(count) is not supported: this service returns exactly one choice", param: "n") }
        }

        guard let messagesValue = o["messages"] else { throw InvalidRequest("missing required field: messages", param: "messages") }
        guard let rawMessages = messagesValue.arrayValue else { throw InvalidRequest("messages must be an array, got \(messagesValue.typeName)", param: "messages") }
        guard !rawMessages.isEmpty else { throw InvalidRequest("messages must not be empty", param: "messages") }
        var messages: [CanonicalRequest.Message] = []
        messages.reserveCapacity(rawMessages.count)
        for (i, m) in rawMessages.enumerated() {
            messages.append(try message(m, path: "messages[\(i)]"))
        }

        var request = CanonicalRequest(requestID: requestID, model: model, stream: stream, messages: messages)
        request.tools = try tools(o)
        request.toolChoice = try toolChoice(o, tools: request.tools)
        request.legacyFunctions = o["functions"] != nil && o["tools"] == nil
        request.parallelToolCalls = try optionalBool(o, "parallel_tool_calls") ?? true
        let maxCompletionTokens = try optionalPositiveInt(o, "max_completion_tokens")
        let maxTokens = try optionalPositiveInt(o, "max_tokens")
        request.maxTokens = maxCompletionTokens ?? maxTokens
        request.temperature = try optionalNumber(o, "temperature")
        request.topP = try optionalNumber(o, "top_p")
        request.stop = try stopSequences(o)
        if let opts = o["stream_options"], !opts.isNull {
            guard let so = opts.objectValue else { throw InvalidRequest("stream_options must be an object", param: "stream_options") }
            // Checked for its type only: usage is always sent, since new-api bills from the last chunk.
            _ = try optionalBool(so, "include_usage", path: "stream_options.include_usage")
        }
        request.bodyHints = .init(
            sessionID: o["session_id"]?.stringValue, personaID: o["persona_id"]?.stringValue, upstreamBaseURL: o["upstream_base_url"]?.stringValue)
        return request
    }

    // MARK: Messages

    static func message(_ value: JSONValue, path: String) throws(InvalidRequest) -> CanonicalRequest.Message {
        guard let m = value.objectValue else { throw InvalidRequest("\(path) must be an object, got \(value.typeName)", param: path) }
        guard let roleValue = m["role"] else { throw InvalidRequest("\(path).role is required", param: "\(path).role") }
        guard let roleName = roleValue.stringValue else { throw InvalidRequest("\(path).role must be a string", param: "\(path).role") }
        let content = try text(of: m["content"], path: "\(path).content")
        switch roleName {
        case "system", "developer":
            return .init(role: .system, content: content)
        case "user":
            return .init(role: .user, content: content)
        case "assistant":
            var msg = CanonicalRequest.Message(role: .assistant, content: content)
            if let r = m["reasoning_content"] ?? m["reasoning"], !r.isNull {
                guard let s = r.stringValue else { throw InvalidRequest("\(path).reasoning_content must be a string", param: "\(path).reasoning_content") }
                msg.reasoning = s
            }
            msg.toolCalls = try assistantToolCalls(m, path: path)
            return msg
        case "tool":
            guard let id = m["tool_call_id"]?.stringValue, !id.isEmpty else {
                throw InvalidRequest("\(path).tool_call_id is required for role tool and must be a non-empty string", param: "\(path).tool_call_id")
            }
            var msg = CanonicalRequest.Message(role: .tool, content: content)
            msg.toolCallID = id
            msg.name = m["name"]?.stringValue
            return msg
        case "function":
            // Legacy function results: the call is identified by name only.
            guard let name = m["name"]?.stringValue, !name.isEmpty else {
                throw InvalidRequest("\(path).name is required for role function", param: "\(path).name")
            }
            var msg = CanonicalRequest.Message(role: .tool, content: content)
            msg.name = name
            return msg
        default:
            throw InvalidRequest("\(path).role \"\(roleName)\" is not one of system, developer, user, assistant, tool, function", param: "\(path).role")
        }
    }

    /// `content` as a string, null, or an array of parts; non-text parts become placeholders.
    static func text(of value: JSONValue?, path: String) throws(InvalidRequest) -> String {
        guard let value else { return "" }
        switch value {
        case .null: return ""
        case .string(let s): return s
        case .array(let parts):
            var out = ""
            for (i, part) in parts.enumerated() {
                let p = "\(path)[\(i)]"
                switch part {
                case .string(let s): out += s
                case .object(let po):
                    let type = po["type"]?.stringValue ?? "text"
                    switch type {
                    case "text", "input_text", "output_text":
                        guard let t = po["text"]?.stringValue else { throw InvalidRequest("\(p).text must be a string", param: "\(p).text") }
                        out += t
                    case "image_url", "input_image", "image": out += "[image]"
                    case "input_audio", "audio": out += "[audio]"
                    case "file", "input_file": out += "[file]"
                    case "refusal": out += po["refusal"]?.stringValue ?? ""
                    default: break  // unknown part types are tolerated and skipped
                    }
                default:
                    throw InvalidRequest("\(p) must be an object (a content part), got \(part.typeName)", param: p)
                }
            }
            return out
        default:
            throw InvalidRequest("\(path) must be a string, null or an array of content parts, got \(value.typeName)", param: path)
        }
    }

    static func assistantToolCalls(_ m: JSONObject, path: String) throws(InvalidRequest) -> [CanonicalRequest.ToolCall] {
        var calls: [CanonicalRequest.ToolCall] = []
        if let tc = m["tool_calls"], !tc.isNull {
            guard let list = tc.arrayValue else { throw InvalidRequest("\(path).tool_calls must be an array", param: "\(path).tool_calls") }
            for (i, item) in list.enumerated() {
                let p = "\(path).tool_calls[\(i)]"
                guard let call = item.objectValue else { throw InvalidRequest("\(p) must be an object", param: p) }
                guard let id = call["id"]?.stringValue, !id.isEmpty else { throw InvalidRequest("\(p).id must be a non-empty string", param: "\(p).id") }
                guard let fn = call["function"]?.objectValue else { throw InvalidRequest("\(p).function must be an object", param: "\(p).function") }
                guard let name = fn["name"]?.stringValue, !name.isEmpty else { throw InvalidRequest("\(p).function.name must be a non-empty string", param: "\(p).function.name") }
                calls.append(.init(id: id, name: name, arguments: try argumentsText(fn["arguments"], path: "\(p).function.arguments")))
            }
        }
        if let fc = m["function_call"], !fc.isNull {
            guard let fn = fc.objectValue, let name = fn["name"]?.stringValue, !name.isEmpty else {
                throw InvalidRequest("\(path).function_call must be an object with a name", param: "\(path).function_call")
            }
            calls.append(.init(id: "", name: name, arguments: try argumentsText(fn["arguments"], path: "\(path).function_call.arguments")))
        }
        return calls
    }

    /// Arguments are a JSON string by the spec; some clients send the object itself.
    static func argumentsText(_ value: JSONValue?, path: String) throws(InvalidRequest) -> String {
        switch value {
        case nil, .null?: return "{}"
        case .string(let s)?: return s.isEmpty ? "{}" : s
        case .object?: return value!.serialized
        default: throw InvalidRequest("\(path) must be a JSON string", param: path)
        }
    }

    // MARK: Tools

    static func tools(_ o: JSONObject) throws(InvalidRequest) -> [CanonicalRequest.Tool] {
        var out: [CanonicalRequest.Tool] = []
        if let t = o["tools"], !t.isNull {
            guard let list = t.arrayValue else { throw InvalidRequest("tools must be an array", param: "tools") }
            for (i, item) in list.enumerated() {
                let p = "tools[\(i)]"
                guard let tool = item.objectValue else { throw InvalidRequest("\(p) must be an object", param: p) }
                let type = tool["type"]?.stringValue ?? "function"
                // Other tool types (mcp, web_search, custom…) are tolerated: they are not ours to run.
                guard type == "function" else { continue }
                guard let fn = tool["function"]?.objectValue else { throw InvalidRequest("\(p).function must be an object", param: "\(p).function") }
                out.append(try function(fn, path: "\(p).function"))
            }
        }
        if let f = o["functions"], !f.isNull {
            guard let list = f.arrayValue else { throw InvalidRequest("functions must be an array", param: "functions") }
            for (i, item) in list.enumerated() {
                guard let fn = item.objectValue else { throw InvalidRequest("functions[\(i)] must be an object", param: "functions[\(i)]") }
                out.append(try function(fn, path: "functions[\(i)]"))
            }
        }
        var seen = Set<String>()
        for tool in out where !seen.insert(tool.name).inserted {
            throw InvalidRequest("tool name \"\(tool.name)\" is declared twice", param: "tools")
        }
        return out
    }

    static func function(_ fn: JSONObject, path: String) throws(InvalidRequest) -> CanonicalRequest.Tool {
        guard let name = fn["name"]?.stringValue, !name.isEmpty else { throw InvalidRequest("\(path).name must be a non-empty string", param: "\(path).name") }
        let description = fn["description"]?.stringValue ?? ""
        let parameters = fn["parameters"] ?? .object(JSONObject([("type", "object"), ("properties", .object(JSONObject()))]))
        guard parameters.objectValue != nil else { throw InvalidRequest("\(path).parameters must be a JSON schema object", param: "\(path).parameters") }
        return .init(name: name, description: description, parameters: parameters)
    }

    static func toolChoice(_ o: JSONObject, tools: [CanonicalRequest.Tool]) throws(InvalidRequest) -> CanonicalRequest.ToolChoice {
        let (value, param) = o["tool_choice"].map { ($0, "tool_choice") } ?? (o["function_call"].map { ($0, "function_call") } ?? (.null, "tool_choice"))
        let choice: CanonicalRequest.ToolChoice
        switch value {
        case .null: return .auto
        case .string("auto"): return .auto
        case .string("none"): return .none
        case .string("required"), .string("any"): choice = .required
        case .string(let other): throw InvalidRequest("\(param) \"\(other)\" is not one of auto, none, required, or a function", param: param)
        case .object(let c):
            let name = c["function"]?["name"]?.stringValue ?? c["name"]?.stringValue
            guard let name, !name.isEmpty else { throw InvalidRequest("\(param).function.name must be a non-empty string", param: "\(param).function.name") }
            choice = .function(name)
        default:
            throw InvalidRequest("\(param) must be a string or an object", param: param)
        }
        if case .function(let name) = choice, !tools.contains(where: { $0.name == name }) {
            throw InvalidRequest("\(param) names the function \"\(name)\", which is not in tools", param: param)
        }
        if tools.isEmpty { throw InvalidRequest("\(param) asks for a tool call but no tools were given", param: param) }
        return choice
    }

    // MARK: Scalars

    static func optionalBool(_ o: JSONObject, _ key: String, path: String? = nil) throws(InvalidRequest) -> Bool? {
        guard let v = o[key], !v.isNull else { return nil }
        guard let b = v.boolValue else { throw InvalidRequest("\(path ?? key) must be a boolean, got \(v.typeName)", param: path ?? key) }
        return b
    }

    static func optionalNumber(_ o: JSONObject, _ key: String) throws(InvalidRequest) -> Double? {
        guard let v = o[key], !v.isNull else { return nil }
        guard let d = v.doubleValue else { throw InvalidRequest("\(key) must be a number, got \(v.typeName)", param: key) }
        return d
    }

    static func optionalPositiveInt(_ o: JSONObject, _ key: String) throws(InvalidRequest) -> Int? {
        guard let v = o[key], !v.isNull else { return nil }
        guard let i = v.intValue, i > 0 else { throw InvalidRequest("\(key) must be a positive integer", param: key) }
        return i
    }

    static func stopSequences(_ o: JSONObject) throws(InvalidRequest) -> [String] {
        switch o["stop"] {
        case nil, .null?: return []
        case .string(let s)?: return [s]
        case .array(let items)?:
            var out: [String] = []
            for (i, item) in items.enumerated() {
                guard let s = item.stringValue else { throw InvalidRequest("stop[\(i)] must be a string", param: "stop") }
                out.append(s)
            }
            return out
        default: throw InvalidRequest("stop must be a string or an array of strings", param: "stop")
        }
    }
}
