import DriverKit
import Foundation
import JSONCore

/// The site driver's configuration: the `config` object of its plugins.json entry. Every field
/// has the meaning of the old service's .env name in parentheses (deploy/plugins.production.json
/// maps them one to one). Unknown fields and wrong types stop start-up, naming the field.
struct SiteConfig {
    enum AuthMode: String { case `static`, passThrough = "pass_through", managed, none }

    var baseURL: String                         // UPSTREAM_API_BASE
    var chatPath = "/v2/chats"                  // UPSTREAM_CHAT_PATH
    var referer: String?                        // UPSTREAM_REFERER
    var acceptLanguage = "zh-CN,zh;q=0.9,en;q=0.8"  // UPSTREAM_ACCEPT_LANGUAGE
    var timeoutMs = 180_000                     // UPSTREAM_TIMEOUT_MS: first byte
    var idleTimeoutMs = 120_000
    var totalTimeoutMs = 1_800_000
    var connectTimeoutMs = 10_000
    var retryCount = 0                          // UPSTREAM_RETRY_COUNT
    var retryBaseMs = 250                       // UPSTREAM_RETRY_BASE_MS
    var keepAlive = true                        // UPSTREAM_KEEP_ALIVE
    var agentSlug = "web-general"
    var localeLocation = "Asia/Shanghai"
    var localeLanguage = "zh-CN"
    var personaID: String?                      // DEFAULT_PERSONA_ID
    var modes: JSONValue = ["search": true]
    var sessionTTLMs = 1_800_000                // SESSION_TTL_MS

    var authMode: AuthMode = .static            // UPSTREAM_AUTH_MODE
    var staticToken: String?                    // UPSTREAM_BEARER_TOKEN
    var tokenURL: String?                       // UPSTREAM_TOKEN_URL (else base + token path)
    var tokenPath = "/v2/token"                 // UPSTREAM_TOKEN_PATH
    var tokenMethod = "POST"                    // UPSTREAM_TOKEN_METHOD
    var tokenHeaders: [(String, String)] = []   // UPSTREAM_TOKEN_HEADERS_JSON
    var tokenBody: String = "{}"                // UPSTREAM_TOKEN_BODY_JSON
    var tokenField = "access_token"             // UPSTREAM_TOKEN_FIELD
    var expiresInField = "expires_in"           // UPSTREAM_TOKEN_EXPIRES_IN_FIELD
    var tokenTimeoutMs = 10_000                 // UPSTREAM_TOKEN_TIMEOUT_MS
    var expirySkewMs = 60_000                   // UPSTREAM_TOKEN_EXPIRY_SKEW_MS
    var authRecoveryRetry = 1                   // UPSTREAM_AUTH_RECOVERY_RETRY

    var dynamicBaseEnabled = false              // UPSTREAM_DYNAMIC_BASE_ENABLED
    var baseAllowlist: [String] = []            // UPSTREAM_BASE_ALLOWLIST
    var baseAllowHTTP = false                   // UPSTREAM_BASE_ALLOW_HTTP
    var baseAllowPrivate = false                // UPSTREAM_BASE_ALLOW_PRIVATE

    var modelProfilesJSON: String?              // MODEL_PROFILE_JSON
    var defaultContextWindow = 200_000          // MODEL_PROFILE_DEFAULT_CONTEXT_WINDOW
    var defaultMaxInputTokens = 120_000         // MODEL_PROFILE_DEFAULT_MAX_INPUT_TOKENS
    var defaultMaxNewTokens = 8192              // MODEL_PROFILE_DEFAULT_MAX_NEW_TOKENS
    var reservedOutputTokens = 1024             // TOKEN_BUDGET_DEFAULT_RESERVED_OUTPUT_TOKENS

    static let fields: Set<String> = [
        "base_url", "chat_path", "referer", "accept_language", "timeout_ms", "idle_timeout_ms", "total_timeout_ms", "connect_timeout_ms",
        "retry_count", "retry_base_ms", "keep_alive", "agent_slug", "locale_location", "locale_language", "persona_id", "modes",
        "session_ttl_ms", "auth_mode", "token", "token_url", "token_path", "token_method", "token_headers_json", "token_body_json",
        "token_field", "expires_in_field", "token_timeout_ms", "expiry_skew_ms", "auth_recovery_retry", "dynamic_base_enabled",
        "base_allowlist", "base_allow_http", "base_allow_private", "model_profile_json", "default_context_window",
        "default_max_input_tokens", "default_max_new_tokens", "reserved_output_tokens", "$comment",
    ]

    init(_ c: [String: Any]) throws {
        if let unknown = c.keys.filter({ !Self.fields.contains($0) }).sorted().first {
            throw DriverConfigError(field: unknown, "unknown field (see Plugins/SelfHostedSite/README.md)")
        }
        let r = Reader(c)
        guard let base = try r.string("base_url"), !base.isEmpty else { throw DriverConfigError(field: "base_url", "required: the site's base URL (UPSTREAM_API_BASE)") }
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
            throw DriverConfigError(field: "base_url", "must be an http(s) URL, got \"\(base)\"")
        }
        baseURL = base.hasSuffix("/") ? String(base.dropLast()) : base
        chatPath = try r.string("chat_path").flatMap { $0.isEmpty ? nil : $0 } ?? chatPath
        referer = try r.string("referer").flatMap { $0.isEmpty ? nil : $0 }
        acceptLanguage = try r.string("accept_language").flatMap { $0.isEmpty ? nil : $0 } ?? acceptLanguage
        timeoutMs = try r.int("timeout_ms", min: 1) ?? timeoutMs
        idleTimeoutMs = try r.int("idle_timeout_ms", min: 1) ?? idleTimeoutMs
        totalTimeoutMs = try r.int("total_timeout_ms", min: 1) ?? totalTimeoutMs
        connectTimeoutMs = try r.int("connect_timeout_ms", min: 1) ?? connectTimeoutMs
        retryCount = try r.int("retry_count", min: 0, max: 10) ?? retryCount
        retryBaseMs = try r.int("retry_base_ms", min: 0) ?? retryBaseMs
        keepAlive = try r.bool("keep_alive") ?? keepAlive
        agentSlug = try r.string("agent_slug").flatMap { $0.isEmpty ? nil : $0 } ?? agentSlug
        localeLocation = try r.string("locale_location").flatMap { $0.isEmpty ? nil : $0 } ?? localeLocation
        localeLanguage = try r.string("locale_language").flatMap { $0.isEmpty ? nil : $0 } ?? localeLanguage
        personaID = try r.string("persona_id").flatMap { $0.isEmpty ? nil : $0 }
        if let m = c["modes"] {
            guard let obj = m as? [String: Any], let data = try? JSONSerialization.data(withJSONObject: obj), let v = try? JSONParser.parse(Array(data)) else {
                throw DriverConfigError(field: "modes", "must be an object such as {\"search\": true}")
            }
            modes = v
        }
        sessionTTLMs = try r.int("session_ttl_ms", min: 1000) ?? sessionTTLMs

        if let mode = try r.string("auth_mode"), !mode.isEmpty {
            guard let m = AuthMode(rawValue: mode.lowercased()) else {
                throw DriverConfigError(field: "auth_mode", "must be static, pass_through, managed or none, got \"\(mode)\"")
            }
            authMode = m
        }
        staticToken = try r.string("token").flatMap { $0.isEmpty ? nil : $0 }
        if authMode == .static, staticToken == nil {
            throw DriverConfigError(field: "token", "required when auth_mode is static (UPSTREAM_BEARER_TOKEN)")
        }
        tokenURL = try r.string("token_url").flatMap { $0.isEmpty ? nil : $0 }
        tokenPath = try r.string("token_path").flatMap { $0.isEmpty ? nil : $0 } ?? tokenPath
        tokenMethod = (try r.string("token_method").flatMap { $0.isEmpty ? nil : $0 } ?? tokenMethod).uppercased()
        if let h = try r.string("token_headers_json"), !h.isEmpty {
            guard case .object(let o)? = try? JSONParser.parse(h) else { throw DriverConfigError(field: "token_headers_json", "must be a JSON object of header → value") }
            tokenHeaders = try o.entries.map { entry in
                guard let v = entry.value.stringValue else { throw DriverConfigError(field: "token_headers_json", "header \(entry.key) must be a string") }
                return (entry.key, v)
            }
        }
        if let b = try r.string("token_body_json"), !b.isEmpty {
            guard (try? JSONParser.parse(b)) != nil else { throw DriverConfigError(field: "token_body_json", "must be valid JSON") }
            tokenBody = b
        }
        tokenField = try r.string("token_field").flatMap { $0.isEmpty ? nil : $0 } ?? tokenField
        expiresInField = try r.string("expires_in_field").flatMap { $0.isEmpty ? nil : $0 } ?? expiresInField
        tokenTimeoutMs = try r.int("token_timeout_ms", min: 1) ?? tokenTimeoutMs
        expirySkewMs = try r.int("expiry_skew_ms", min: 0) ?? expirySkewMs
        authRecoveryRetry = try r.int("auth_recovery_retry", min: 0, max: 5) ?? authRecoveryRetry

        dynamicBaseEnabled = try r.bool("dynamic_base_enabled") ?? false
        baseAllowlist = (try r.string("base_allowlist") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        baseAllowHTTP = try r.bool("base_allow_http") ?? false
        baseAllowPrivate = try r.bool("base_allow_private") ?? false

        modelProfilesJSON = try r.string("model_profile_json").flatMap { $0.isEmpty ? nil : $0 }
        defaultContextWindow = try r.int("default_context_window", min: 1) ?? defaultContextWindow
        defaultMaxInputTokens = try r.int("default_max_input_tokens", min: 1) ?? defaultMaxInputTokens
        defaultMaxNewTokens = try r.int("default_max_new_tokens", min: 1) ?? defaultMaxNewTokens
        reservedOutputTokens = try r.int("reserved_output_tokens", min: 0) ?? reservedOutputTokens
    }

    var chatURL: String { baseURL + (chatPath.hasPrefix("/") ? chatPath : "/" + chatPath) }
    var loginURL: String { tokenURL ?? baseURL + (tokenPath.hasPrefix("/") ? tokenPath : "/" + tokenPath) }

    /// Typed reads with the field named in every complaint. Numbers and booleans may arrive as
    /// strings: the operators' .env values are strings.
    struct Reader {
        let c: [String: Any]
        init(_ c: [String: Any]) { self.c = c }

        func string(_ k: String) throws -> String? {
            guard let v = c[k], !(v is NSNull) else { return nil }
            if let s = v as? String { return s }
            if let n = v as? NSNumber { return n.stringValue }
            throw DriverConfigError(field: k, "must be a string")
        }

        func int(_ k: String, min: Int, max: Int = .max) throws -> Int? {
            guard let v = c[k], !(v is NSNull) else { return nil }
            let parsed: Int?
            if let s = v as? String {
                parsed = Int(s.trimmingCharacters(in: .whitespaces))
            } else if let n = v as? NSNumber, !Self.isBool(n), n.doubleValue == n.doubleValue.rounded() {
                parsed = n.intValue
            } else {
                parsed = nil
            }
            if let s = v as? String, s.isEmpty { return nil }
            guard let value = parsed, value >= min, value <= max else {
                throw DriverConfigError(field: k, "must be an integer from \(min)\(max == .max ? " up" : " to \(max)"), got \(v)")
            }
            return value
        }

        /// JSON booleans arrive as NSNumber too; their type code tells them from numbers.
        static func isBool(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

        func bool(_ k: String) throws -> Bool? {
            guard let v = c[k], !(v is NSNull) else { return nil }
            if let n = v as? NSNumber, Self.isBool(n) { return n.boolValue }
            if let s = v as? String {
                switch s.lowercased() {
                case "": return nil
                case "true", "1", "yes", "on": return true
                case "false", "0", "no", "off": return false
                default: break
                }
            }
            throw DriverConfigError(field: k, "must be true or false, got \(v)")
        }
    }
}
