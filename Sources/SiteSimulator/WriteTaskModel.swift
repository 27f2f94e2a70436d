import ScriptedTasks

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
        guard let task = FileTask(ToolFollowingModel.lastUserText(conversation)) else { return nil }
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
}
