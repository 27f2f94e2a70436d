/// The simulated model's answer to an agent's file task, the way MockUpstream's `mock-write-task`
/// answers it: when the host's tool list offers `Write` (with `file_path` and `content`) and the
/// user wrote `create the file /abs/path containing "text"`, one `Write` call, and once its result
/// has come back, a short final answer without a call (so the agent's turn ends). Anything else is
/// left to ToolFollowingModel's chain.
enum WriteTaskModel {
    static func reply(conversation: [String], tools: [ToolFollowingModel.Tool]) -> String? {
        guard let write = tools.first(where: { $0.name == "Write" }),
              Set(write.parameters.map(\.name)).isSuperset(of: ["file_path", "content"]) else { return nil }
        let results = conversation.flatMap { ToolFollowingModel.toolResults(in: $0, declared: [write]) }
        if let result = results.last { return "Done. The tool said: \(result)" }
        guard let task = Task(ToolFollowingModel.lastUserText(conversation)) else { return nil }
        let content = task.content.contains("</parameter>") ? "<![CDATA[\(task.content)]]>" : task.content
        return """
            I'll write \(task.path).
            <tool_calls>
            <invoke name="Write">
            <parameter name="file_path">\(task.path)</parameter>
            <parameter name="content">\(content)</parameter>
            </invoke>
            </tool_calls>
            """
    }

    /// The file and its content: the last word outside double quotes that starts with `/` and is
    /// followed by a double-quoted text, and that text (as in Plugins/MockUpstream/WriteTaskScript).
    struct Task: Equatable {
        var path: String
        var content: String

        init?(_ message: String) {
            var words: [(word: String, at: Int)] = []
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
