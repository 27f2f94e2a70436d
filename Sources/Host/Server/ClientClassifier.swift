import HTTPTypes

/// Which agent sent a request. new-api replaces the client's User-Agent with its own, so a
/// channel header override (`X-Client-User-Agent: {client_header:User-Agent}`) is read first,
/// then the request's own User-Agent, then the shape of the request (tool names, system prompt).
enum ClientClassifier {
    static let forwardedUserAgent = HTTPField.Name("X-Client-User-Agent")!

    static func classify(headers: HTTPFields, request: CanonicalRequest?) -> ClientKind {
        if let ua = headers[forwardedUserAgent], let kind = agent(fromUserAgent: ua) { return kind }
        let ua = headers[.userAgent] ?? ""
        if let kind = agent(fromUserAgent: ua) { return kind }
        if let request, let kind = agent(fromRequest: request) { return kind }
        let lower = ua.lowercased()
        if lower.contains("go-http-client") || lower.contains("new-api") || lower.contains("one-api") { return .newAPI }
        if lower.contains("openai/python") || lower.contains("openai/js") || lower.hasPrefix("openai") || lower.contains("asyncopenai") { return .openaiSDK }
        return .other
    }

    static func agent(fromUserAgent ua: String) -> ClientKind? {
        let lower = ua.lowercased()
        if lower.contains("opencode") { return .opencode }
        if lower.contains("claude-cli") || lower.contains("claude-code") || lower.contains("claude_code") { return .claudeCode }
        return nil
    }

    /// Claude Code names its tools Bash/Edit/Read/Write…; OpenCode uses lower-case bash/edit/read/write.
    static func agent(fromRequest request: CanonicalRequest) -> ClientKind? {
        let names = Set(request.tools.map(\.name))
        let claude: Set<String> = ["Bash", "Edit", "Read", "Write", "Glob", "Grep", "TodoWrite"]
        let opencode: Set<String> = ["bash", "edit", "read", "write", "glob", "grep", "todowrite"]
        if names.intersection(claude).count >= 3 { return .claudeCode }
        if names.intersection(opencode).count >= 3 { return .opencode }
        if let system = request.messages.first(where: { $0.role == .system })?.content.prefix(4000) {
            if system.contains("Claude Code") { return .claudeCode }
            if system.localizedCaseInsensitiveContains("opencode") { return .opencode }
        }
        return nil
    }
}
