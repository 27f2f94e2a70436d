import Foundation

/// A model that follows the text tool protocol (/work/shared/docs/tool-protocol.md) the "chain"
/// way, like the mock driver's `mock-tool-chain`: a task that needs every listed tool in turn.
/// It reads the tool list the host rendered into the prompt (`## Available tools`, `### Name`,
/// `- param (type, required): …`), counts the `<tool_result>` blocks seen so far, calls the next
/// tool (one per answer, every required parameter filled), and once each tool has answered,
/// quotes all the results. Deterministic: the same conversation always gets the same answer.
enum ToolFollowingModel {
    struct Parameter: Equatable {
        var name: String
        /// As printed: `string`, `integer|null`, `array<string>`, `any`…
        var type: String
        /// The `one of:` values, when the parameter is an enum.
        var allowed: [String]?
        var required: Bool
    }

    struct Tool: Equatable {
        var name: String
        var parameters: [Parameter]
    }

    /// The answer to the newest query, given the session's earlier queries (oldest first);
    /// nil when the conversation offers no tools (the caller answers as before).
    static func reply(query: String, earlier: [String]) -> String? {
        let conversation = earlier + [query]
        guard let tools = conversation.reversed().lazy.compactMap(toolList).first, !tools.isEmpty else { return nil }
        if let answer = WriteTaskModel.reply(conversation: conversation, tools: tools) { return answer }
        let results = conversation.flatMap { toolResults(in: $0, declared: tools) }
        if results.count >= tools.count {
            return "All \(results.count) steps are done. Results: \(results.joined(separator: " | "))"
        }
        let tool = tools[results.count]
        let word = firstWord(of: lastUserText(conversation))
        var lines = ["Step \(results.count + 1): calling \(tool.name).", "<tool_calls>", "<invoke name=\"\(tool.name)\">"]
        for p in tool.parameters where p.required {
            lines.append("<parameter name=\"\(p.name)\">\(value(for: p, word: word))</parameter>")
        }
        lines += ["</invoke>", "</tool_calls>"]
        return lines.joined(separator: "\n")
    }

    // MARK: Reading the prompt

    static let listHeading = "## Available tools"

    /// The tools of the last tool list in `text`, nil when it has none. The list runs from its
    /// heading to the next `## ` heading; parameter lines count only after a tool's `Parameters:`.
    static func toolList(in text: String) -> [Tool]? {
        guard let heading = text.range(of: listHeading, options: .backwards) else { return nil }
        var tools: [Tool] = []
        var inParameters = false
        for line in text[heading.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).dropFirst() {
            if line.hasPrefix("## ") { break }
            if line.hasPrefix("### ") {
                tools.append(Tool(name: line.dropFirst(4).trimmingCharacters(in: .whitespaces), parameters: []))
                inParameters = false
            } else if line.hasPrefix("Parameters:") {
                inParameters = true
            } else if inParameters, line.hasPrefix("- "), !tools.isEmpty, let p = parameter(line.dropFirst(2)) {
                tools[tools.count - 1].parameters.append(p)
            }
        }
        return tools
    }

    /// `name (type[, one of: a|b], required|optional)[: description]`.
    static func parameter(_ line: Substring) -> Parameter? {
        guard let open = line.range(of: " (") else { return nil }
        let rest = line[open.upperBound...]
        let ends = [(", required)", true), (", optional)", false)].compactMap { marker, required in
            rest.range(of: marker).map { (range: $0, required: required) }
        }
        guard let end = ends.min(by: { $0.range.lowerBound < $1.range.lowerBound }) else { return nil }
        let attributes = rest[..<end.range.lowerBound]
        var type = String(attributes)
        var allowed: [String]?
        if let oneOf = attributes.range(of: ", one of: ") {
            type = String(attributes[..<oneOf.lowerBound])
            allowed = attributes[oneOf.upperBound...].split(separator: "|").map(String.init)
        }
        return Parameter(name: String(line[..<open.lowerBound]), type: type, allowed: allowed, required: end.required)
    }

    /// The contents of the `<tool_result …>…</tool_result>` blocks of `text` that name a declared
    /// tool, trimmed. The protocol's own description of a result (`name="…"`) is not one.
    static func toolResults(in text: String, declared tools: [Tool]) -> [String] {
        var results: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "<tool_result"), let tagEnd = rest[open.upperBound...].firstIndex(of: ">") {
            let tag = rest[open.upperBound..<tagEnd]
            let body = rest[rest.index(after: tagEnd)...]
            guard let close = body.range(of: "</tool_result>") else { break }
            // A mention without its close (`never write a <tool_result> yourself`) is no block:
            // the next opening before this close starts the real one.
            if let next = body[..<close.lowerBound].range(of: "<tool_result") {
                rest = body[next.lowerBound...]
                continue
            }
            rest = body[close.upperBound...]
            guard let name = attribute("name", in: tag), tools.contains(where: { $0.name == name }) else { continue }
            results.append(body[..<close.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return results
    }

    private static func attribute(_ key: String, in tag: Substring) -> String? {
        guard let start = tag.range(of: " \(key)=\"") else { return nil }
        let value = tag[start.upperBound...]
        return value.firstIndex(of: "\"").map { String(value[..<$0]) }
    }

    // MARK: Writing the call

    /// What the user last wrote: the last `[user]` turn with words of a whole-history query, or
    /// a continued session's new text; tool results and the tool instructions are not the user's.
    static func lastUserText(_ conversation: [String]) -> String {
        var last = ""
        for text in conversation {
            var candidates: [Substring] = []
            if text.contains("[user]\n") {
                for turn in text.split(separator: "[user]\n", omittingEmptySubsequences: false).dropFirst() {
                    var candidate = turn
                    for marker in ["\n\n[assistant]\n", "\n\n[system]\n"] {
                        if let end = candidate.range(of: marker) { candidate = candidate[..<end.lowerBound] }
                    }
                    candidates.append(candidate)
                }
            } else if !text.hasPrefix("[system]\n") && !text.contains(listHeading) {
                candidates.append(Substring(text))
            }
            for candidate in candidates {
                let words = withoutToolResults(candidate).trimmingCharacters(in: .whitespacesAndNewlines)
                if !words.isEmpty { last = words }
            }
        }
        return last
    }

    private static func withoutToolResults(_ text: Substring) -> String {
        var out = ""
        var rest = text
        while let open = rest.range(of: "<tool_result"), let close = rest[open.upperBound...].range(of: "</tool_result>") {
            out += rest[..<open.lowerBound]
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    /// The first word, letters, digits, `-`, `_` and `.` only, at most 40 characters; "example"
    /// when nothing is left.
    static func firstWord(of text: String) -> String {
        let word = text.split(whereSeparator: \.isWhitespace).first.map { w in
            String(w.filter { $0.isLetter || $0.isNumber || "-_.".contains($0) }.prefix(40))
        }
        guard let word, !word.isEmpty else { return "example" }
        return word
    }

    /// A value the host's schema check accepts: an enum's first value, 2 for numbers, true,
    /// [] and {}; strings get the user's first word. JSON for every non-string type.
    static func value(for p: Parameter, word: String) -> String {
        if let first = p.allowed?.first { return first }
        switch alternatives(p.type).first(where: { $0 != "null" }) ?? "string" {
        case "integer", "number": return "2"
        case "boolean": return "true"
        case "object": return "{}"
        case let t where t.hasPrefix("array"): return "[]"
        default: return word
        }
    }

    /// `a|array<b|c>|d` → [a, array<b|c>, d]: a `|` inside `<…>` belongs to the item type.
    private static func alternatives(_ type: String) -> [String] {
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
