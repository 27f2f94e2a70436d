import Foundation
import HTTPTypes

/// Every host setting, read once at start-up from the environment (and an optional .env file).
/// A bad value stops start-up with a message naming the setting. The README documents each.
public struct HostConfig: Sendable {
    public enum AuthMode: String, Sendable { case bearer, none }

    public var host = "127.0.0.1"
    public var port = 3001
    public var pluginsPath: String?          // nil: ./plugins.json when present, else the embedded default
    public var driverDirectory: String
    public var authMode: AuthMode = .none
    public var bearerTokens: [String] = []
    public var bodyLimitBytes = 5 * 1024 * 1024
    public var modelList: [String] = []
    public var firstEventTimeoutMs = 180_000
    public var idleTimeoutMs = 120_000
    public var totalTimeoutMs = 1_800_000
    public var keepAliveMs = 15_000
    public var streamBufferBytes = 32 * 1024
    public var shutdownGraceMs = 30_000
    public var logLevel = "info"
    public var logHeaders = false
    public var logBodies = false
    public var sessionKeyMode: SessionHints.KeyMode = .authModelClient
    public var sessionKeyHeader: String? = "x-session-key"
    public var state = StateSettings()
    /// The model /v1/messages serves a request as when plugins.json routes its model nowhere by name or prefix.
    public var messagesDefaultModel: String?
    public var trace = TraceSettings()

    public struct Invalid: Error, CustomStringConvertible {
        public let setting: String
        public let problem: String
        public var description: String { "\(setting): \(problem)" }
    }

    /// Names this host reads itself (the rest of config-compat.md is read by drivers via plugins.json).
    public static let hostNames: Set<String> = [
        "PORT", "MIX2API_HOST", "MIX2API_PLUGINS", "MIX2API_DRIVER_DIR", "INBOUND_AUTH_MODE", "INBOUND_BEARER_TOKEN",
        "BODY_SIZE_LIMIT", "MODEL_LIST", "UPSTREAM_TIMEOUT_MS", "MIX2API_IDLE_TIMEOUT_MS", "MIX2API_TOTAL_TIMEOUT_MS",
        "MIX2API_KEEPALIVE_MS", "MIX2API_SHUTDOWN_GRACE_MS", "MIX2API_LOG_LEVEL", "LOG_HEADERS", "LOG_BODIES", "MIX2API_ENV_FILE", "SESSION_KEY_MODE", "SESSION_KEY_HEADER",
        "SESSION_STORE_MODE", "REDIS_URL", "REDIS_CONNECT_TIMEOUT_MS", "REDIS_COMMAND_TIMEOUT_MS", "REDIS_SESSION_PREFIX", "REDIS_POOL_SIZE",
        "MIX2API_MESSAGES_DEFAULT_MODEL",
        "MIX2API_TRACE_SAMPLE_PERCENT", "MIX2API_TRACE_DIR",
        "MIX2API_STREAM_BUFFER_BYTES",
    ]

    public static func load(from env: [String: String], executableDirectory: String) throws(Invalid) -> HostConfig {
        var c = HostConfig(driverDirectory: env["MIX2API_DRIVER_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? executableDirectory)
        if let v = env["MIX2API_HOST"], !v.isEmpty { c.host = v }
        c.port = try int(env, "PORT", default: 3001, range: 0...65535)
        if let v = env["MIX2API_PLUGINS"], !v.isEmpty { c.pluginsPath = v }
        c.bearerTokens = (env["INBOUND_BEARER_TOKEN"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        switch env["INBOUND_AUTH_MODE"]?.lowercased() {
        case nil, "":
            // Old default was bearer; with no token configured we only allow an open port on loopback.
            if !c.bearerTokens.isEmpty {
                c.authMode = .bearer
            } else if isLoopback(c.host) {
                c.authMode = .none
            } else {
                throw Invalid(setting: "INBOUND_BEARER_TOKEN", problem: "required when listening on \(c.host) (or set INBOUND_AUTH_MODE=none to run without inbound auth)")
            }
        case "bearer":
            guard !c.bearerTokens.isEmpty else { throw Invalid(setting: "INBOUND_BEARER_TOKEN", problem: "required when INBOUND_AUTH_MODE=bearer") }
            c.authMode = .bearer
        case "none":
            c.authMode = .none
        case let other?:
            throw Invalid(setting: "INBOUND_AUTH_MODE", problem: "must be bearer or none, got \"\(other)\"")
        }
        if let v = env["BODY_SIZE_LIMIT"], !v.isEmpty {
            guard let bytes = ByteSize.parse(v), bytes > 0 else { throw Invalid(setting: "BODY_SIZE_LIMIT", problem: "must be a size like 5mb, 512kb or 1048576, got \"\(v)\"") }
            c.bodyLimitBytes = bytes
        }
        c.modelList = (env["MODEL_LIST"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        c.firstEventTimeoutMs = try int(env, "UPSTREAM_TIMEOUT_MS", default: 180_000, range: 1...86_400_000)
        c.idleTimeoutMs = try int(env, "MIX2API_IDLE_TIMEOUT_MS", default: 120_000, range: 1...86_400_000)
        c.totalTimeoutMs = try int(env, "MIX2API_TOTAL_TIMEOUT_MS", default: 1_800_000, range: 1...86_400_000)
        c.keepAliveMs = try int(env, "MIX2API_KEEPALIVE_MS", default: 15_000, range: 100...600_000)
        c.shutdownGraceMs = try int(env, "MIX2API_SHUTDOWN_GRACE_MS", default: 30_000, range: 0...3_600_000)
        c.streamBufferBytes = try int(env, "MIX2API_STREAM_BUFFER_BYTES", default: 32 * 1024, range: 1024...(64 << 20))
        if let v = env["MIX2API_LOG_LEVEL"], !v.isEmpty {
            guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(v.lowercased()) else {
                throw Invalid(setting: "MIX2API_LOG_LEVEL", problem: "must be one of trace, debug, info, notice, warning, error, critical")
            }
            c.logLevel = v.lowercased()
        }
        if let v = env["SESSION_KEY_MODE"], !v.isEmpty {
            guard let mode = SessionHints.KeyMode(rawValue: v.lowercased()) else {
                throw Invalid(setting: "SESSION_KEY_MODE", problem: "must be auth, auth_model_client or model, got \"\(v)\"")
            }
            c.sessionKeyMode = mode
        }
        if let v = env["SESSION_KEY_HEADER"] {
            guard v.isEmpty || HTTPField.Name(v) != nil else { throw Invalid(setting: "SESSION_KEY_HEADER", problem: "\"\(v)\" is not a valid header name") }
            c.sessionKeyHeader = v.isEmpty ? nil : v
        }
        c.state = try StateSettings.load(from: env)
        if let v = env["MIX2API_MESSAGES_DEFAULT_MODEL"]?.trimmingCharacters(in: .whitespaces), !v.isEmpty { c.messagesDefaultModel = v }
        c.trace = try TraceSettings.load(from: env)
        c.logHeaders = try bool(env, "LOG_HEADERS")
        c.logBodies = try bool(env, "LOG_BODIES")
        return c
    }

    static func int(_ env: [String: String], _ name: String, default d: Int, range: ClosedRange<Int>) throws(Invalid) -> Int {
        guard let raw = env[name], !raw.isEmpty else { return d }
        guard let v = Int(raw.trimmingCharacters(in: .whitespaces)), range.contains(v) else {
            throw Invalid(setting: name, problem: "must be an integer from \(range.lowerBound) to \(range.upperBound), got \"\(raw)\"")
        }
        return v
    }

    static func bool(_ env: [String: String], _ name: String) throws(Invalid) -> Bool {
        switch env[name]?.lowercased() {
        case nil, "", "false", "0", "no", "off": return false
        case "true", "1", "yes", "on": return true
        case let v?: throw Invalid(setting: name, problem: "must be true or false, got \"\(v)\"")
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

/// Sizes as the old service wrote them: "5mb", "512kb", "1gb", or plain bytes.
public enum ByteSize {
    public static func parse(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Int)] = [("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10), ("b", 1)]
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            let number = t.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            guard let v = Double(number), v >= 0 else { return nil }
            return Int(v * Double(factor))
        }
        return Int(t)
    }
}
