/// Which agent a request came from: the SLO dimension `client`. A fixed set, so metrics stay bounded.
public enum ClientKind: String, Sendable, CaseIterable {
    case opencode
    case claudeCode = "claude-code"
    case newAPI = "new-api"
    case openaiSDK = "openai-sdk"
    case other
}
