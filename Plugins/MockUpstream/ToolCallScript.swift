import Foundation

/// The answers of `mock-tool`, `mock-tool-json` and `mock-tool-parallel`: a model that follows
/// the text tool protocol (/work/shared/docs/tool-protocol.md). The block is sent as ordinary
/// TEXT_DELTAs cut into small pieces, because detecting it in a stream is the host's job and the
/// point of these scenarios is to exercise that detector.
enum ToolCallScript {
    enum Form {
        /// `<parameter name="x">value</parameter>` lines.
        case parameters
        /// One JSON object inside the invoke: `<invoke name="x">{"a":2}</invoke>`.
        case json
    }

    static func events(for request: MockRequest, form: Form, parallel: Bool) -> [MockEvent] {
        MockEvent.textDeltas(answer(for: request, form: form, parallel: parallel))
    }

    static func answer(for request: MockRequest, form: Form, parallel: Bool) -> String {
        // A tool result is the end of the exchange; answering with another call would loop
        // an agent forever. Results arrive as `tool` messages (native) or, rendered by the host
        // for a text-only model, as `<tool_result …>` blocks in the last user message.
        if let last = request.messages.last, last.role == "tool" {
            return "The tool returned: \(last.content)"
        }
        if let results = toolResults(in: request.messages.last), !results.isEmpty {
            return "The tool returned: \(results.joined(separator: "; "))"
        }
        let calls = choose(request, parallel: parallel)
        if calls.isEmpty { return "No tools were offered." }

        let names = calls.map(\.name)
        let intro = parallel && names[0] != names[1]
            ? "I'll call \(names[0]) and \(names[1]) now.\n"
            : parallel ? "I'll call \(names[0]) twice now.\n" : "I'll call \(names[0]) now.\n"
        var block = "<tool_calls>\n"
        for (i, tool) in calls.enumerated() {
            // Repeating a tool with identical arguments would be dropped by the host as a
            // duplicate, so each repeat gets its own variant of the sample values.
            let variant = calls[..<i].filter { $0.name == tool.name }.count
            let arguments = Arguments.synthesise(for: tool, variant: variant, lastUser: request.lastUserContent ?? "")
            block += render(tool.name, arguments, form: form)
        }
        return intro + block + "</tool_calls>"
    }

    /// `mock-tool-chain`: a task that needs every listed tool in turn — it calls the tool after
    /// the ones whose results it has seen, one per answer, then answers with all the results.
    static func chainAnswer(for request: MockRequest) -> String {
        let seen = request.messages.reduce(0) { count, m in
            count + (m.role == "tool" ? 1 : (toolResults(in: m)?.count ?? 0))
        }
        if request.tools.isEmpty { return "No tools were offered." }
        if seen >= request.tools.count {
            let all = request.messages.flatMap { m in m.role == "tool" ? [m.content] : (toolResults(in: m) ?? []) }
            return "All \(seen) steps are done. Results: \(all.joined(separator: " | "))"
        }
        let tool = request.tools[seen]
        let arguments = Arguments.synthesise(for: tool, variant: 0, lastUser: request.lastUserContent ?? "")
        return "Step \(seen + 1): calling \(tool.name).\n<tool_calls>\n" + render(tool.name, arguments, form: .parameters) + "</tool_calls>"
    }

    /// The contents of the `<tool_result …>…</tool_result>` blocks of a message (nil: none).
    static func toolResults(in message: MockRequest.Message?) -> [String]? {
        guard let message, message.role == "user", message.content.contains("<tool_result") else { return nil }
        var results: [String] = []
        var rest = Substring(message.content)
        while let open = rest.range(of: "<tool_result"), let tagEnd = rest[open.upperBound...].firstIndex(of: ">") {
            let body = rest[rest.index(after: tagEnd)...]
            guard let close = body.range(of: "</tool_result>") else { break }
            results.append(body[..<close.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines))
            rest = body[close.upperBound...]
        }
        return results
    }

    private static func choose(_ request: MockRequest, parallel: Bool) -> [MockRequest.Tool] {
        let chosen: MockRequest.Tool
        if request.toolChoice?["mode"] as? String == "function", let name = request.toolChoice?["name"] as? String {
            chosen = request.tools.first { $0.name == name } ?? MockRequest.Tool(name: name, parameters: [:])
            return parallel ? [chosen, chosen] : [chosen]
        }
        guard let first = request.tools.first else { return [] }
        if !parallel { return [first] }
        return request.tools.count >= 2 ? [first, request.tools[1]] : [first, first]
    }

    private static func render(_ name: String, _ arguments: [(name: String, value: Arguments.Value)], form: Form) -> String {
        switch form {
        case .json:
            let object = JSONText.object(arguments.map { ($0.name, $0.value.json) })
            return "<invoke name=\"\(name)\">\(object)</invoke>\n"
        case .parameters:
            var text = "<invoke name=\"\(name)\">\n"
            for argument in arguments {
                text += "<parameter name=\"\(argument.name)\">\(argument.value.raw)</parameter>\n"
            }
            return text + "</invoke>\n"
        }
    }
}

/// Sample arguments that satisfy a tool's JSON schema well enough for the host's validator.
enum Arguments {
    enum Value {
        case string(String)
        /// Any non-string value, already JSON.
        case json(String)

        /// How the value sits between `<parameter>` tags: strings verbatim, the rest as JSON.
        var raw: String {
            switch self {
            case .string(let s): return s.contains("</parameter>") ? "<![CDATA[\(s)]]>" : s
            case .json(let j): return j
            }
        }

        var json: String {
            switch self {
            case .string(let s): return JSONText.encode(s)
            case .json(let j): return j
            }
        }
    }

    /// Every required property in the schema's order, or, when none is required, the first
    /// property by name (JSONSerialization does not keep the schema's key order, and the answer
    /// must be the same on every run).
    static func synthesise(for tool: MockRequest.Tool, variant: Int, lastUser: String) -> [(name: String, value: Value)] {
        let properties = tool.parameters["properties"] as? [String: Any] ?? [:]
        var names = tool.parameters["required"] as? [String] ?? []
        if names.isEmpty, let first = properties.keys.sorted().first { names = [first] }

        var numbers = 0
        return names.map { name in
            let schema = properties[name] as? [String: Any] ?? [:]
            return (name, sample(name: name, schema: schema, variant: variant, numbers: &numbers, lastUser: lastUser))
        }
    }

    private static func sample(name: String, schema: [String: Any], variant: Int, numbers: inout Int, lastUser: String) -> Value {
        // An enum admits nothing else: "example" would fail the host's schema check.
        if let options = schema["enum"] as? [Any], let first = options.first {
            return (first as? String).map(Value.string) ?? .json(JSONText.encode(first))
        }
        switch schemaType(schema) {
        case "integer", "number":
            // 2, 3, 2, 3... in one call; 4, 5... in the first repeat, so repeats differ.
            defer { numbers += 1 }
            return .json(String(2 + 2 * variant + numbers % 2))
        case "boolean": return .json(variant % 2 == 0 ? "true" : "false")
        case "array": return .json("[]")
        case "object": return .json("{}")
        case "null": return .json("null")
        default:
            let value = stringSample(name: name, lastUser: lastUser)
            return .string(variant == 0 ? value : "\(value)-\(variant + 1)")
        }
    }

    /// The schema's `type`; with a list of types (`["string", "null"]`) the first that is not null.
    private static func schemaType(_ schema: [String: Any]) -> String {
        if let type = schema["type"] as? String { return type }
        return (schema["type"] as? [String])?.first { $0 != "null" } ?? "string"
    }

    /// Plausible strings make demos read naturally: a file path comes from the user's words
    /// ("Create hello.txt" → "hello.txt"), a command or query is the user's request itself.
    private static func stringSample(name: String, lastUser: String) -> String {
        let key = name.lowercased()
        let message = lastUser.trimmingCharacters(in: .whitespacesAndNewlines)
        if message.isEmpty { return "example" }
        if key.contains("path") || key.contains("file") {
            // Sentence punctuation and quotes around a word are not part of the path; a leading
            // "." or "/" is ("../x", ".env").
            let words = message.split(whereSeparator: \.isWhitespace).map { word -> Substring in
                var w = word.drop { "\"'`(".contains($0) }
                while let c = w.last, ".,;:!?\"'`)".contains(c) { w = w.dropLast() }
                return w
            }
            return words.last { $0.contains("/") || $0.contains(".") }.map(String.init) ?? message
        }
        if key.contains("command") || key.contains("query") { return message }
        return "example"
    }
}
