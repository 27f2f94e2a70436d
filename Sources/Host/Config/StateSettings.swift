/// Where shared state (site tokens, session mappings, login locks) lives: SESSION_STORE_MODE,
/// REDIS_URL and friends (config-compat.md). Read with the rest of HostConfig.
public struct StateSettings: Sendable {
    public enum Mode: String, Sendable { case auto, redis, memory }

    public var mode: Mode = .auto
    public var redisURL: RedisURL?
    public var connectTimeoutMs = 2000
    public var commandTimeoutMs = 1000
    public var prefix = "mix2api:session"
    public var poolSize = 16

    /// What `auto` resolves to: Redis exactly when REDIS_URL is set.
    public var usesRedis: Bool {
        switch mode {
        case .memory: return false
        case .redis: return true
        case .auto: return redisURL != nil
        }
    }

    static func load(from env: [String: String]) throws(HostConfig.Invalid) -> StateSettings {
        var s = StateSettings()
        if let v = env["SESSION_STORE_MODE"], !v.isEmpty {
            guard let mode = Mode(rawValue: v.lowercased()) else {
                throw HostConfig.Invalid(setting: "SESSION_STORE_MODE", problem: "must be auto, redis or memory, got \"\(v)\"")
            }
            s.mode = mode
        }
        if let v = env["REDIS_URL"], !v.isEmpty {
            // RedisURL's messages already start with REDIS_URL and never repeat the password.
            do { s.redisURL = try RedisURL(v) } catch { throw HostConfig.Invalid(setting: "REDIS_URL", problem: String(error.description.dropFirst("REDIS_URL: ".count))) }
        }
        if s.mode == .redis, s.redisURL == nil {
            throw HostConfig.Invalid(setting: "REDIS_URL", problem: "required when SESSION_STORE_MODE=redis")
        }
        s.connectTimeoutMs = try HostConfig.int(env, "REDIS_CONNECT_TIMEOUT_MS", default: 2000, range: 10...60_000)
        s.commandTimeoutMs = try HostConfig.int(env, "REDIS_COMMAND_TIMEOUT_MS", default: 1000, range: 10...60_000)
        s.poolSize = try HostConfig.int(env, "REDIS_POOL_SIZE", default: 16, range: 1...1024)
        if let v = env["REDIS_SESSION_PREFIX"], !v.isEmpty {
            guard !v.contains(where: { $0.isWhitespace }) else {
                throw HostConfig.Invalid(setting: "REDIS_SESSION_PREFIX", problem: "must not contain spaces, got \"\(v)\"")
            }
            s.prefix = v
        }
        return s
    }
}
