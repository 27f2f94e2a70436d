/// `mock-write-task`: a model that does what an agent's user asks in the sentence "create the
/// file /abs/path containing "text"": one `Write` call in the text tool protocol, then, once the
/// tool's result is back, a short final answer (and no further call, so the agent's turn ends).
/// Built for Claude Code end to end; the site simulator's WriteTaskModel reads tasks the same way.
enum WriteTaskScript {
    static func answer(for request: MockRequest) -> String {
        guard let last = request.messages.last(where: { $0.role == "user" || $0.role == "tool" }) else { return "No task was given." }
        // Results arrive as `tool` messages (native) or `<tool_result …>` blocks (text protocol).
        if last.role == "tool" { return "Done. The tool said: \(last.content)" }
        if let results = ToolCallScript.toolResults(in: last), !results.isEmpty {
            return "Done. The tool said: \(results.joined(separator: "; "))"
        }
        guard request.tools.contains(where: { $0.name == "Write" }) else { return "No Write tool was offered." }
        guard let task = Task(last.content) else { return "No file was named: write \"create the file /path containing \\\"text\\\"\"." }
        return """
            I'll write \(task.path).
            <tool_calls>
            <invoke name="Write">
            <parameter name="file_path">\(task.path)</parameter>
            <parameter name="content">\(Arguments.Value.string(task.content).raw)</parameter>
            </invoke>
            </tool_calls>
            """
    }

    /// The file and its content: the last word outside double quotes that starts with `/` and is
    /// followed by a double-quoted text, and that text. Words before it (an agent's reminders,
    /// URLs) do not count, and neither do slashes inside the quoted content.
    struct Task: Equatable {
        var path: String
        var content: String

        init?(_ message: String) {
            var words: [(word: String, at: Int)] = []  // unquoted words starting with "/"
            var quoted: [(text: String, at: Int)] = []
            var inQuote = false
            var current = ""
            var position = 0
            func endWord() {
                var w = Substring(current)
                while let c = w.last, ".,;:!?)`'".contains(c) { w = w.dropLast() }
                if w.hasPrefix("/") { words.append((String(w), position)) }
                current = ""
            }
            for ch in message {
                position += 1
                if ch == "\"" {
                    if inQuote { quoted.append((current, position)); current = "" } else { endWord() }
                    inQuote.toggle()
                } else if inQuote {
                    current.append(ch)
                } else if ch.isWhitespace || "(`'".contains(ch) {
                    endWord()
                } else {
                    current.append(ch)
                }
            }
            if !inQuote { endWord() }
            guard let file = words.last(where: { w in quoted.contains { $0.at > w.at } }),
                  let text = quoted.first(where: { $0.at > file.at }) else { return nil }
            path = file.word
            content = text.text
        }
    }
}
