/// Rewrites a request for a driver WITHOUT native tools (tool-protocol.md, "Rendering history"):
/// the protocol goes into the system prompt, earlier assistant tool calls become the exact
/// `<tool_calls>` text the model is asked to write (a model copies the format it sees in its
/// history), and tool results become `<tool_result>` text in a user turn. The driver then sees
/// plain text only.
enum ToolHistoryRenderer {
    /// The heading line the instructions sit under in the system prompt.
    static let heading = "# Tools"

    static func render(_ request: CanonicalRequest) throws(InvalidRequest) -> CanonicalRequest {
        var out = request
        out.messages = try renderMessages(request.messages, tools: request.tools)
        if !request.tools.isEmpty && request.toolChoice != .none {
            let text = heading + "\n" + ToolPromptRenderer.instructions(tools: request.tools, choice: request.toolChoice, parallel: request.parallelToolCalls)
            if let i = out.messages.firstIndex(where: { $0.role == .system }) {
                let existing = out.messages[i].content
                out.messages[i].content = existing.isEmpty ? text : existing + "\n\n" + text
            } else {
                out.messages.insert(.init(role: .system, content: text), at: 0)
            }
        }
        return out
    }

    /// The `<tool_calls>` block for these calls, exactly as the model is asked to write it. The
    /// streaming side compares against the same text, so this is the one place that spells it.
    static func renderCalls(_ calls: [CanonicalRequest.ToolCall], tools: [CanonicalRequest.Tool]) -> String {
        var lines = ["<tool_calls>"]
        for call in calls {
            let schema = tools.first { $0.name == call.name }?.parameters
            guard case .object(let arguments)? = try? JSONParser.parse(call.arguments) else {
                // Not a JSON object: the JSON form keeps the text exactly as the client sent it.
                lines.append("<invoke name=\"\(call.name)\">\(call.arguments)</invoke>")
                continue
            }
            lines.append("<invoke name=\"\(call.name)\">")
            for (name, value) in arguments.entries {
                lines.append("<parameter name=\"\(name)\">\(parameterText(value, property: schema?["properties"]?[name], root: schema))</parameter>")
            }
            lines.append("</invoke>")
        }
        lines.append("</tool_calls>")
        return lines.joined(separator: "\n")
    }

    /// Raw text for a string where a string is expected (or the schema does not say); JSON for
    /// everything else, so a string "5" for an integer parameter stays a string when read back.
    static func parameterText(_ value: JSONValue, property: JSONValue?, root: JSONValue?) -> String {
        guard case .string(let s) = value else { return value.serialized }
        let types = property.map { ToolSchemaSummary.jsonTypes(of: $0, root: root ?? .null) } ?? []
        guard types.isEmpty || types.contains("string") else { return value.serialized }
        // CDATA when the text would end the parameter early, or would itself read as CDATA.
        if s.contains("</parameter>") || s.drop(while: \.isWhitespace).hasPrefix("<![CDATA[") {
            return "<![CDATA[\(s)]]>"
        }
        return s
    }

    // MARK: Messages

    private struct SeenCall {
        var id: String
        var name: String
    }

    private static func renderMessages(_ messages: [CanonicalRequest.Message], tools: [CanonicalRequest.Tool]) throws(InvalidRequest) -> [CanonicalRequest.Message] {
        var out: [CanonicalRequest.Message] = []
        out.reserveCapacity(messages.count)
        var seen: [SeenCall] = []
        var i = 0
        while i < messages.count {
            var message = messages[i]
            switch message.role {
            case .assistant where !message.toolCalls.isEmpty:
                seen.append(contentsOf: message.toolCalls.map { SeenCall(id: $0.id, name: $0.name) })
                let block = renderCalls(message.toolCalls, tools: tools)
                let separator = message.content.isEmpty || message.content.hasSuffix("\n") ? "" : "\n"
                message.content += separator + block
                message.toolCalls = []
                out.append(message)
                i += 1
            case .tool:
                // A run of results becomes one user turn, before the text the user wrote next.
                var results: [String] = []
                while i < messages.count, messages[i].role == .tool {
                    results.append(try resultText(messages[i], index: i, seen: seen))
                    i += 1
                }
                var turn = CanonicalRequest.Message(role: .user, content: "")
                var content = results.joined(separator: "\n")
                if i < messages.count, messages[i].role == .user {
                    turn = messages[i]  // merged away: keeps its name and anything else it carries
                    if !turn.content.isEmpty { content += "\n\n" + turn.content }
                    i += 1
                }
                turn.content = content
                out.append(turn)
            default:
                out.append(message)
                i += 1
            }
        }
        return out
    }

    /// One `<tool_result>`, its call found by id, or (legacy `function` results) by name.
    private static func resultText(_ message: CanonicalRequest.Message, index i: Int, seen: [SeenCall]) throws(InvalidRequest) -> String {
        let call: SeenCall
        if let id = message.toolCallID, !id.isEmpty {
            guard let match = seen.last(where: { $0.id == id }) else {
                throw InvalidRequest("messages[\(i)].tool_call_id \"\(id)\" does not match any earlier tool call", param: "messages[\(i)].tool_call_id")
            }
            call = match
        } else if let name = message.name, !name.isEmpty {
            guard let match = seen.last(where: { $0.name == name }) else {
                throw InvalidRequest("messages[\(i)].name \"\(name)\" does not match any earlier tool call", param: "messages[\(i)].name")
            }
            call = match
        } else {
            throw InvalidRequest("messages[\(i)] is a tool result without tool_call_id", param: "messages[\(i)].tool_call_id")
        }
        let name = message.name.flatMap { $0.isEmpty ? nil : $0 } ?? call.name
        // Legacy function_call ids are empty: no id attribute rather than id="".
        var open = "<tool_result name=\"\(name)\""
        if !call.id.isEmpty { open += " id=\"\(call.id)\"" }
        if message.isError { open += " error=\"true\"" }
        open += ">"
        return open + "\n" + message.content + "\n</tool_result>"
    }
}
