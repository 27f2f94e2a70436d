import Foundation

/// The environment mix2api reads: the process environment over an optional .env file (the old
/// service's operators keep their settings there), plus a report of the names nobody uses.
public enum EnvironmentFile {
    /// Parses KEY=VALUE lines: `#` comments, optional `export `, single or double quotes.
    public static func parse(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
                value = String(value.dropFirst().dropLast())
                if q == "\"" { value = value.replacingOccurrences(of: "\\n", with: "\n") }
            } else if let hash = value.range(of: " #") {
                value = value[..<hash.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            if !key.isEmpty { out[key] = value }
        }
        return out
    }

    /// The process environment, completed by the .env file (MIX2API_ENV_FILE, default ./.env).
    public static func merged(process: [String: String], currentDirectory: String) -> (env: [String: String], file: String?) {
        let path = process["MIX2API_ENV_FILE"] ?? (currentDirectory as NSString).appendingPathComponent(".env")
        guard !path.isEmpty, let data = FileManager.default.contents(atPath: path) else { return (process, nil) }
        var env = parse(String(decoding: data, as: UTF8.self))
        for (k, v) in process { env[k] = v }
        return (env, path)
    }

    /// The names of config-compat.md (the old service's .env) that are set but read by nothing:
    /// neither the host nor any plugins.json placeholder. Reported once at start-up, never fatal.
    public static let knownNames: Set<String> = [
        "PORT", "UPSTREAM_API_BASE", "UPSTREAM_CHAT_PATH", "UPSTREAM_REFERER", "UPSTREAM_ACCEPT_LANGUAGE", "UPSTREAM_TIMEOUT_MS",
        "UPSTREAM_RETRY_COUNT", "UPSTREAM_RETRY_BASE_MS", "UPSTREAM_KEEP_ALIVE", "INBOUND_AUTH_MODE", "INBOUND_BEARER_TOKEN",
        "UPSTREAM_AUTH_MODE", "UPSTREAM_BEARER_TOKEN", "UPSTREAM_TOKEN_URL", "UPSTREAM_TOKEN_PATH", "UPSTREAM_TOKEN_METHOD",
        "UPSTREAM_TOKEN_HEADERS_JSON", "UPSTREAM_TOKEN_BODY_JSON", "UPSTREAM_TOKEN_FIELD", "UPSTREAM_TOKEN_EXPIRES_IN_FIELD",
        "UPSTREAM_TOKEN_TIMEOUT_MS", "UPSTREAM_TOKEN_EXPIRY_SKEW_MS", "UPSTREAM_AUTH_RECOVERY_RETRY", "UPSTREAM_DYNAMIC_BASE_ENABLED",
        "UPSTREAM_BASE_ALLOWLIST", "UPSTREAM_BASE_ALLOW_HTTP", "UPSTREAM_BASE_ALLOW_PRIVATE", "DEFAULT_PERSONA_ID", "SESSION_STORE_MODE",
        "REDIS_URL", "REDIS_CONNECT_TIMEOUT_MS", "REDIS_SESSION_PREFIX", "SESSION_TTL_MS", "SESSION_KEY_MODE", "SESSION_KEY_HEADER",
        "MODEL_LIST", "MODEL_PROFILE_JSON", "MODEL_PROFILE_DEFAULT_CONTEXT_WINDOW", "MODEL_PROFILE_DEFAULT_MAX_INPUT_TOKENS",
        "MODEL_PROFILE_DEFAULT_MAX_NEW_TOKENS", "TOKEN_BUDGET_DEFAULT_RESERVED_OUTPUT_TOKENS", "BODY_SIZE_LIMIT", "LOG_HEADERS", "LOG_BODIES",
    ]

    public static func ignoredNames(env: [String: String], usedByPlugins: Set<String>) -> [String] {
        knownNames.filter { env[$0] != nil && !HostConfig.hostNames.contains($0) && !usedByPlugins.contains($0) }.sorted()
    }
}
