import NIOConcurrencyHelpers

/// Removes credentials from text before it is logged, traced or shown: the secrets this instance
/// was configured with (inbound keys, driver passwords and tokens: see `SecretRegistry`), bearer
/// and basic credentials, keys and tokens in `key=value`, header or JSON form (also JSON escaped
/// inside a string), cookies, passwords in URLs, and anything shaped like a JWT or an `sk-` key.
///
/// One pass over the bytes, no regular expressions: it runs on every log field and on whole
/// traced bodies, so it must cost microseconds, not milliseconds.
public enum Redactor {
    static let mark = Array("<redacted>".utf8)

    /// Credential-like names: a value after one of these (and `:` or `=`) is replaced. Matched
    /// anywhere, case-insensitively, so `session_token`, `db_password` and `client_secret` count.
    static let credentialNames: [[UInt8]] = [
        "x-api-key", "api_key", "api-key", "apikey", "access_token", "access-token", "accesstoken", "refresh_token", "refresh-token",
        "refreshtoken", "token", "password", "passwd", "pwd", "secret", "authorization", "credentials", "credential",
    ].map { Array($0.utf8) }
    static let cookieNames: [[UInt8]] = ["set-cookie", "cookie"].map { Array($0.utf8) }

    public static func redact(_ text: String) -> String {
        guard text.utf8.count >= SecretRegistry.minimumLength else { return text }
        var bytes = Array(text.utf8)
        var changed = SecretRegistry.scrub(&bytes)
        if bytes.count >= 8, let out = redactPatterns(bytes) {
            bytes = out
            changed = true
        }
        return changed ? String(decoding: bytes, as: UTF8.self) : text
    }

    // MARK: the scanner

    /// nil when nothing matched (the common case: no copy).
    static func redactPatterns(_ b: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var copied = 0  // b[..<copied] is in `out` already
        var i = 0
        let n = b.count

        func replace(from start: Int, to end: Int, with replacement: [UInt8]) {
            if out.isEmpty { out.reserveCapacity(n) }
            out.append(contentsOf: b[copied..<start])
            out.append(contentsOf: replacement)
            copied = end
        }

        while i < n {
            let c = lower(b[i])
            let boundary = i == 0 || !isWord(b[i - 1])
            // Bearer <token>
            if c == 0x62, matches(b, i, "bearer"), let end = bearerToken(b, after: i + 6) {
                replace(from: i, to: end, with: Array("Bearer <redacted>".utf8))
                i = end
                continue
            }
            // Basic <base64>
            if c == 0x62, boundary, matches(b, i, "basic"), let end = basicCredential(b, after: i + 5) {
                replace(from: i, to: end, with: Array("Basic <redacted>".utf8))
                i = end
                continue
            }
            // JWT-shaped
            if b[i] == 0x65, let end = jwt(b, at: i) {
                replace(from: i, to: end, with: Array("<redacted-jwt>".utf8))
                i = end
                continue
            }
            // sk-… keys
            if c == 0x73, boundary, i + 3 <= n, lower(b[i + 1]) == 0x6B, b[i + 2] == 0x2D {
                var j = i + 3
                while j < n, isKeyChar(b[j]) { j += 1 }
                if j - (i + 3) >= 8 {
                    replace(from: i, to: j, with: Array("sk-<redacted>".utf8))
                    i = j
                    continue
                }
            }
            // scheme://user:password@host
            if b[i] == 0x3A, i + 2 < n, b[i + 1] == 0x2F, b[i + 2] == 0x2F, i > 0, isSchemeChar(b[i - 1]), let (colon, at) = userinfoPassword(b, after: i + 3) {
                replace(from: colon + 1, to: at, with: mark)
                i = at
                continue
            }
            // name: value / name=value / "name":"value" / \"name\":\"value\"
            if c == 0x63 || c == 0x73, let name = cookieNames.first(where: { matches(b, i, $0) }), let (valueStart, valueEnd) = value(b, after: i + name.count, cookie: true) {
                replace(from: valueStart, to: valueEnd, with: mark)
                i = valueEnd
                continue
            }
            if isNameStart(c), let name = credentialNames.first(where: { matches(b, i, $0) }) {
                if let (valueStart, valueEnd) = value(b, after: i + name.count, cookie: false) {
                    replace(from: valueStart, to: valueEnd, with: mark)
                    i = valueEnd
                    continue
                }
            }
            i += 1
        }
        guard copied > 0 else { return nil }
        out.append(contentsOf: b[copied...])
        return out
    }

    /// After a credential name: `\"`? spaces `:`|`=` spaces `\"`? then the value. The value runs
    /// to a quote, backslash, whitespace or separator (a cookie's to the end of the line).
    static func value(_ b: [UInt8], after nameEnd: Int, cookie: Bool) -> (Int, Int)? {
        var j = nameEnd
        let n = b.count
        if j < n, b[j] == 0x5C { j += 1 }
        if j < n, b[j] == 0x22 { j += 1 }
        while j < n, b[j] == 0x20 || b[j] == 0x09 { j += 1 }
        guard j < n, b[j] == 0x3A || b[j] == 0x3D else { return nil }
        j += 1
        while j < n, b[j] == 0x20 || b[j] == 0x09 { j += 1 }
        if j < n, b[j] == 0x5C { j += 1 }
        if j < n, b[j] == 0x22 { j += 1 }
        let start = j
        var wordStart = j
        while j < n {
            let x = b[j]
            if x == 0x22 || x == 0x5C || x == 0x0A || x == 0x0D { break }
            if !cookie, x == 0x20 || x == 0x09 || x == 0x2C || x == 0x26 || x == 0x3B || x == 0x7D {
                // `Authorization: Bearer x`: the scheme is not the secret, the word after it is.
                if x == 0x20 || x == 0x09, authSchemes.contains(where: { $0.count == j - wordStart && matches(b, wordStart, $0) }) {
                    while j < n, b[j] == 0x20 || b[j] == 0x09 { j += 1 }
                    wordStart = j
                    continue
                }
                break
            }
            j += 1
        }
        return j > start ? (start, j) : nil
    }

    static let authSchemes: [[UInt8]] = ["bearer", "basic", "digest", "token"].map { Array($0.utf8) }

    static func bearerToken(_ b: [UInt8], after: Int) -> Int? {
        var j = after
        guard j < b.count, b[j] == 0x20 || b[j] == 0x09 else { return nil }
        while j < b.count, b[j] == 0x20 || b[j] == 0x09 { j += 1 }
        let start = j
        while j < b.count, isWord(b[j]) || b[j] == 0x2E || b[j] == 0x7E || b[j] == 0x2B || b[j] == 0x2F || b[j] == 0x3D || b[j] == 0x2D { j += 1 }
        return j > start ? j : nil
    }

    static func basicCredential(_ b: [UInt8], after: Int) -> Int? {
        var j = after
        guard j < b.count, b[j] == 0x20 || b[j] == 0x09 else { return nil }
        while j < b.count, b[j] == 0x20 || b[j] == 0x09 { j += 1 }
        let start = j
        while j < b.count, isAlnum(b[j]) || b[j] == 0x2B || b[j] == 0x2F || b[j] == 0x3D { j += 1 }
        return j - start >= 6 ? j : nil
    }

    /// `eyJ` + 8 or more, `.`, 8 or more, `.`, any: the end of the token.
    static func jwt(_ b: [UInt8], at i: Int) -> Int? {
        guard i + 3 <= b.count, b[i + 1] == 0x79, b[i + 2] == 0x4A else { return nil }
        var j = i + 3
        func run() -> Int {
            let s = j
            while j < b.count, isKeyChar(b[j]) { j += 1 }
            return j - s
        }
        guard run() >= 8, j < b.count, b[j] == 0x2E else { return nil }
        j += 1
        guard run() >= 8, j < b.count, b[j] == 0x2E else { return nil }
        j += 1
        _ = run()
        return j
    }

    /// After `://`: `user:password@` → the colon and the `@`.
    static func userinfoPassword(_ b: [UInt8], after start: Int) -> (Int, Int)? {
        var j = start
        var colon: Int?
        while j < b.count {
            let x = b[j]
            if x == 0x40 { return colon.map { ($0, j) }.flatMap { $0.1 > $0.0 + 1 ? $0 : nil } }
            if x == 0x2F || x == 0x20 || x == 0x22 || x == 0x0A || x == 0x3F || x == 0x23 { return nil }
            if x == 0x3A, colon == nil { colon = j }
            j += 1
        }
        return nil
    }

    @inline(__always) static func lower(_ x: UInt8) -> UInt8 { x >= 0x41 && x <= 0x5A ? x | 0x20 : x }
    @inline(__always) static func isAlnum(_ x: UInt8) -> Bool { (x >= 0x30 && x <= 0x39) || (x >= 0x41 && x <= 0x5A) || (x >= 0x61 && x <= 0x7A) }
    @inline(__always) static func isWord(_ x: UInt8) -> Bool { isAlnum(x) || x == 0x5F }
    @inline(__always) static func isKeyChar(_ x: UInt8) -> Bool { isWord(x) || x == 0x2D }
    @inline(__always) static func isSchemeChar(_ x: UInt8) -> Bool { isAlnum(x) || x == 0x2B || x == 0x2E || x == 0x2D }
    /// First letters of the credential names: a, x, r, t, p, s, c.
    @inline(__always) static func isNameStart(_ c: UInt8) -> Bool { c == 0x61 || c == 0x78 || c == 0x72 || c == 0x74 || c == 0x70 || c == 0x73 || c == 0x63 }

    static func matches(_ b: [UInt8], _ i: Int, _ word: String) -> Bool { matches(b, i, Array(word.utf8)) }

    /// Case-insensitive ASCII match of `word` (lower-case) at `i`.
    @inline(__always) static func matches(_ b: [UInt8], _ i: Int, _ word: [UInt8]) -> Bool {
        guard i + word.count <= b.count else { return false }
        for k in 0..<word.count where lower(b[i + k]) != word[k] { return false }
        return true
    }
}

/// The secret values this instance knows: inbound keys, and every string under a credential-like
/// name in a driver's config (JSON kept in a string, such as `token_body_json`, is searched too).
/// A known secret is replaced wherever it appears, whatever surrounds it, so a site that echoes a
/// password in an error message still cannot get it into a log.
public enum SecretRegistry {
    /// Shorter values are too likely to be ordinary words to be replaced everywhere.
    public static let minimumLength = 6
    private static let secrets = NIOLockedValueBox<[[UInt8]]>([])

    public static func register(_ value: String) {
        var v = Substring(value)
        while v.first?.isWhitespace == true { v.removeFirst() }
        while v.last?.isWhitespace == true { v.removeLast() }
        let bytes = Array(v.utf8)
        guard bytes.count >= minimumLength else { return }
        secrets.withLockedValue { list in
            guard !list.contains(bytes) else { return }
            list.append(bytes)
            // Longest first, so a secret containing another is replaced whole.
            list.sort { $0.count > $1.count }
        }
    }

    /// Registers the values under credential-like names anywhere in `config`.
    public static func registerCredentials(in config: JSONValue) {
        walk(config, underCredentialName: false)
    }

    /// Replaces every known secret in `bytes`; true when something was replaced.
    static func scrub(_ bytes: inout [UInt8]) -> Bool {
        let list = secrets.withLockedValue { $0 }
        guard !list.isEmpty else { return false }
        var changed = false
        for secret in list where bytes.count >= secret.count {
            var out: [UInt8] = []
            var copied = 0
            var i = 0
            let first = secret[0]
            while i + secret.count <= bytes.count {
                if bytes[i] == first, bytes[i..<(i + secret.count)].elementsEqual(secret) {
                    out.append(contentsOf: bytes[copied..<i])
                    out.append(contentsOf: Redactor.mark)
                    i += secret.count
                    copied = i
                } else {
                    i += 1
                }
            }
            if copied > 0 {
                out.append(contentsOf: bytes[copied...])
                bytes = out
                changed = true
            }
        }
        return changed
    }

    /// Settings about a credential rather than the credential (`token_url`, `token_field`, `auth_mode`…).
    private static let settingSuffixes = ["_url", "_path", "_method", "_field", "_mode", "_ms", "_count", "_retry", "_shape"]

    static func isCredentialName(_ key: String) -> Bool {
        let k = Array(key.lowercased().utf8)
        let named = (Redactor.credentialNames + Redactor.cookieNames + [Array("auth".utf8), Array("private_key".utf8), Array("private-key".utf8)])
            .contains { name in k.indices.contains { Redactor.matches(k, $0, name) } }
        return named && !settingSuffixes.contains { key.lowercased().hasSuffix($0) }
    }

    private static func walk(_ value: JSONValue, underCredentialName: Bool) {
        switch value {
        case .object(let o):
            for (key, v) in o.entries { walk(v, underCredentialName: isCredentialName(key)) }
        case .array(let a):
            for v in a { walk(v, underCredentialName: underCredentialName) }
        case .string(let s):
            // JSON kept in a string (token_body_json, header maps) is searched by its own keys:
            // the password in a login body, not the user name beside it.
            if let first = s.first(where: { !$0.isWhitespace }), first == "{" || first == "[", let inner = try? JSONParser.parse(Array(s.utf8)) {
                walk(inner, underCredentialName: false)
            } else if underCredentialName {
                register(s)
                // "Authorization: Bearer x" or "Bearer x": the credential alone, too.
                if let space = s.lastIndex(of: " ") { register(String(s[s.index(after: space)...])) }
            }
        default:
            break
        }
    }
}
