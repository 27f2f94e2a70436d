/// The command-line settings the routes need, fixed at start-up.
struct SimulatorConfig: Sendable {
    var tokenTTLSeconds: Int
    var tokenShape: TokenShape
    var username: String
    var password: String
    var staticTokens: Set<String>
    var noAuth: Bool
    var deltaDelayMs: Int
    var splitWrites: Bool
    var loginDelayMs: Int
}

/// How a login answer states the token's lifetime (the site's deployments differ; see the doc).
enum TokenShape: String, Sendable, CaseIterable {
    case expiresIn = "expires_in"
    case expiresAt = "expiresAt"
    case exp = "exp"
    case jwt = "jwt"
    case none = "none"
}
