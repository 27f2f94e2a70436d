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
    /// How many sessions the simulator remembers; past that the oldest is forgotten, as a real
    /// site expires them (continuing it is then `session not found`). Unbounded, a benchmark's
    /// tens of thousands of one-turn sessions, each holding its prompt, grew the process by
    /// hundreds of megabytes and stalled it whenever the tables doubled.
    var maxSessions: Int
}

/// How a login answer states the token's lifetime (the site's deployments differ; see the doc).
enum TokenShape: String, Sendable, CaseIterable {
    case expiresIn = "expires_in"
    case expiresAt = "expiresAt"
    case exp = "exp"
    case jwt = "jwt"
    case none = "none"
}
