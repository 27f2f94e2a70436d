import ScriptedTasks

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
        guard let task = FileTask(last.content) else { return "No file was named: write \"create the file /path containing \\\"text\\\"\"." }
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
}
