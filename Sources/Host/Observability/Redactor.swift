/// Removes credentials from text before it is logged or shown: bearer tokens, API keys in
/// `key=value` or JSON form, and anything shaped like a JWT or an `sk-` key.
public enum Redactor {
    private struct Rule {
        let regex: Regex<AnyRegexOutput>
        /// Keep capture group 1 (the key and separator) and replace the rest.
        let keepPrefix: Bool
        let replacement: String
    }

    // Regex values are immutable once built; sharing them across threads is safe.
    nonisolated(unsafe) private static let rules: [Rule] = [
        Rule(regex: try! Regex(#"(?i)bearer\s+[A-Za-z0-9._~+/=\-]+"#), keepPrefix: false, replacement: "Bearer <redacted>"),
        Rule(regex: try! Regex(#"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"#), keepPrefix: false, replacement: "<redacted-jwt>"),
        Rule(
            regex: try! Regex(
                #"(?i)("?(?:api[_-]?key|x-api-key|access[_-]?token|refresh[_-]?token|token|password|passwd|secret|authorization|cookie)"?\s*[:=]\s*"?)[^"\s,&}]+"#),
            keepPrefix: true, replacement: "<redacted>"),
        Rule(regex: try! Regex(#"\bsk-[A-Za-z0-9_\-]{8,}"#), keepPrefix: false, replacement: "sk-<redacted>"),
    ]

    public static func redact(_ text: String) -> String {
        guard text.utf8.count >= 8 else { return text }
        var out = text
        for rule in rules {
            out = out.replacing(rule.regex) { match in
                if rule.keepPrefix, match.output.count > 1, let prefix = match.output[1].substring {
                    return String(prefix) + rule.replacement
                }
                return rule.replacement
            }
        }
        return out
    }
}
