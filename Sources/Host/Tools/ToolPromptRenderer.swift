/// The prompt text that teaches a text-only model the tool protocol (tool-protocol.md): a compact
/// list of the tools, the exact `<tool_calls>` format, one correct example and what not to do.
/// It is restated on every turn that has tools, so it must stay compact: Claude Code sends 10–20
/// tools whose descriptions run to pages. Descriptions are cut; parameter names, types and
/// required flags never are. Same input → same text (no dictionaries, no dates, no randomness).
enum ToolPromptRenderer {
    /// Renderings of recent tool sets: agents repeat theirs on every turn (see `RecentToolPrompts`).
    static let recent = RecentToolPrompts()

    static func instructions(tools: [CanonicalRequest.Tool], choice: CanonicalRequest.ToolChoice, parallel: Bool) -> String {
        // `.none` means no protocol at all; callers do not ask, but an empty text is the safe answer.
        guard !tools.isEmpty, choice != .none else { return "" }
        return recent.text(for: .init(choice: choice, parallel: parallel, tools: tools)) {
            render(tools: tools, choice: choice, parallel: parallel)
        }
    }

    static func render(tools: [CanonicalRequest.Tool], choice: CanonicalRequest.ToolChoice, parallel: Bool) -> String {
        var lines: [String] = []
        lines.append("You can call the tools listed below. \(choiceLine(choice))")
        lines.append("")
        lines.append("## Available tools")
        for tool in tools {
            lines.append("")
            lines.append(contentsOf: toolLines(tool))
        }
        lines.append("")
        lines.append(contentsOf: protocolLines(parallel: parallel))
        lines.append("")
        lines.append(contentsOf: exampleLines(tools[0]))
        lines.append("")
        lines.append("What not to do:")
        lines.append("- Do not put the <tool_calls> block in a markdown code fence (```) or in inline code: it would not be read as a call.")
        lines.append("- Do not answer with bare JSON: ordinary replies are plain text, and tool calls use only the <tool_calls> format.")
        lines.append("- Do not call a tool that is not listed above, and do not invent parameters.")
        lines.append("- Do not write anything after </tool_calls>, and never write a <tool_result> yourself.")
        lines.append("")
        // Restated last: the closest instruction to the answer is the one a model follows.
        lines.append(choiceLine(choice))
        return lines.joined(separator: "\n")
    }

    static func choiceLine(_ choice: CanonicalRequest.ToolChoice) -> String {
        switch choice {
        case .auto, .none: "Use a tool only when it helps with the request; otherwise answer in plain text, without a <tool_calls> block."
        case .required: "You MUST call at least one tool in this answer."
        case .function(let name): "You MUST call the tool \(name) in this answer."
        }
    }

    // MARK: Tool list

    static func toolLines(_ tool: CanonicalRequest.Tool) -> [String] {
        var lines = ["### \(tool.name)"]
        let description = ToolSchemaSummary.toolDescription(tool.description)
        if !description.isEmpty { lines.append(description) }
        let parameters = ToolSchemaSummary.parameters(of: tool.parameters)
        if parameters.isEmpty {
            lines.append("Parameters: none")
            return lines
        }
        lines.append("Parameters:")
        for p in parameters {
            var line = "- \(p.name) (\(attributes(p)))"
            if !p.description.isEmpty { line += ": \(p.description)" }
            lines.append(line)
            if !p.fields.isEmpty {
                let fields = p.fields.map { "\($0.name) (\(attributes($0)))" }.joined(separator: "; ")
                lines.append("  \(p.fieldsAreItems ? "each item" : "fields"): \(fields)")
            }
        }
        return lines
    }

    /// `string, one of: a|b, required`: type, allowed values, and the flag, always spelled out.
    static func attributes(_ p: ToolSchemaSummary.Parameter) -> String {
        var parts = [p.type]
        if let allowed = p.allowed { parts.append("one of: \(allowed)") }
        parts.append(p.required ? "required" : "optional")
        return parts.joined(separator: ", ")
    }

    // MARK: Protocol

    static func protocolLines(parallel: Bool) -> [String] {
        [
            "## How to call tools",
            "",
            "To call tools, end your answer with a <tool_calls> block in exactly this format:",
            "",
            "<tool_calls>",
            "<invoke name=\"TOOL_NAME\">",
            "<parameter name=\"PARAMETER_NAME\">value</parameter>",
            "</invoke>",
            "</tool_calls>",
            "",
            "- Use the exact tool and parameter names listed above. Give every required parameter; leave out optional ones you do not need.",
            "- String values: write the text raw between the tags, exactly as it is: no quotes around it, no JSON escaping (newlines, quotes, backslashes and non-ASCII stay as they are).",
            "- If a string value contains </parameter>, wrap the whole value as <![CDATA[value]]>.",
            "- Other types (number, integer, boolean, array, object): write the value as JSON, e.g. <parameter name=\"limit\">10</parameter> or <parameter name=\"labels\">[\"bug\", \"ui\"]</parameter>.",
            "- Alternatively, an <invoke> may hold one JSON object with all arguments: <invoke name=\"TOOL_NAME\">{\"PARAMETER_NAME\": \"value\"}</invoke>.",
            parallel
                ? "- Several <invoke> elements in one <tool_calls> block are parallel calls: use them for independent calls."
                : "- Call at most one tool per answer: exactly one <invoke> in the <tool_calls> block.",
            "- The block comes alone at the END of your answer: a short sentence may come before it, nothing comes after </tool_calls>.",
            "- After </tool_calls>, stop. Never invent a tool result: the results come back in the next message as <tool_result name=\"…\" id=\"…\">…</tool_result>. Wait for them, then continue.",
        ]
    }

    // MARK: Example

    /// One correct answer calling the first tool with its real parameters (the required ones, or
    /// the first one when none is required), rendered exactly as history renders calls.
    static func exampleLines(_ tool: CanonicalRequest.Tool) -> [String] {
        let parameters = ToolSchemaSummary.parameters(of: tool.parameters)
        var chosen = parameters.filter(\.required)
        if chosen.isEmpty, let first = parameters.first { chosen = [first] }
        var arguments = JSONObject()
        for p in chosen { arguments[p.name] = sample(p) }
        let call = CanonicalRequest.ToolCall(id: "", name: tool.name, arguments: JSONValue.object(arguments).serialized)
        return [
            "Example of a correct answer that calls \(tool.name):",
            "<example>",
            "I'll do that now.",
            ToolHistoryRenderer.renderCalls([call], tools: [tool]),
            "</example>",
        ]
    }

    /// A plausible value of the parameter's (first non-null) type.
    static func sample(_ p: ToolSchemaSummary.Parameter) -> JSONValue {
        if let first = p.allowed?.split(separator: "|").first.map(String.init) {
            if p.type.split(separator: "|").contains("string") { return .string(first) }
            return (try? JSONParser.parse(first)) ?? .string(first)
        }
        let alternatives = topLevelAlternatives(p.type)
        let type = alternatives.first { $0 != "null" } ?? "string"
        switch type {
        case "integer", "number": return 1
        case "boolean": return true
        case "object":
            return .object(JSONObject(p.fields.filter(\.required).map { ($0.name, sample($0)) }))
        default:
            if type.hasPrefix("array<") {
                let item = String(type.dropFirst("array<".count).dropLast())
                if p.fieldsAreItems {
                    return [.object(JSONObject(p.fields.filter(\.required).map { ($0.name, sample($0)) }))]
                }
                return [sample(.init(name: p.name, type: item, required: true, description: ""))]
            }
            return .string(sampleText(p.name))
        }
    }

    private static func sampleText(_ name: String) -> String {
        let n = name.lowercased()
        if n.contains("path") || n.contains("file") { return "/path/to/file.txt" }
        if n.contains("command") { return "ls -la" }
        if n.contains("url") { return "https://example.com" }
        if n.contains("content") || n.contains("text") || n.contains("body") { return "line one\nline two" }
        return "example \(name)"
    }

    /// `a|array<b|c>|d` → [a, array<b|c>, d]: `|` inside `<…>` belongs to the item type.
    private static func topLevelAlternatives(_ type: String) -> [String] {
        var out: [String] = []
        var current = ""
        var depth = 0
        for c in type {
            if c == "<" { depth += 1 }
            if c == ">" { depth -= 1 }
            if c == "|" && depth == 0 {
                out.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        out.append(current)
        return out
    }
}
