import JSONCore

/// Why a login answer gave no usable token. The messages go to logs and to clients: they name the
/// field that is missing and never contain the token or any of the body.
public enum TokenAnswerError: Error, Equatable, CustomStringConvertible {
    case notJSON
    case missingToken(field: String)
    case tokenNotString(field: String)
    case emptyToken(field: String)

    public var description: String {
        switch self {
        case .notJSON: "the login answer is not a JSON object"
        case .missingToken(let field): "the login answer has no \(field)"
        case .tokenNotString(let field): "the login answer's \(field) is not a string"
        case .emptyToken(let field): "the login answer's \(field) is empty"
        }
    }
}

/// Reads the site token and its expiry from the login endpoint's answer (managed auth mode).
public enum TokenAnswer {
    /// `tokenField` and `expiresInField` may be dotted paths (`data.token`). The expiry comes from the
    /// first of: `expiresInField` (seconds from now), `expiresAt` (ms), `exp` (Unix seconds) — looked
    /// for at the top level and beside the token — then the token's own JWT `exp` claim; nil when
    /// none tells (the driver then refreshes only on a 401/403).
    public static func parse(body: [UInt8], tokenField: String = "access_token", expiresInField: String = "expires_in", nowMs: Int64) throws(TokenAnswerError)
        -> (token: String, expiresAtMs: Int64?)
    {
        guard let json = try? JSONParser.parse(body), case .object = json else { throw .notJSON }
        guard let raw = json.value(atPath: tokenField), !raw.isNull else { throw .missingToken(field: tokenField) }
        guard let token = raw.stringValue else { throw .tokenNotString(field: tokenField) }
        let trimmed = token.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw .emptyToken(field: tokenField) }

        // The object that holds the token may hold its expiry too (`{"data": {"token", "expiresAt"}}`).
        var holders = [json]
        if let dot = tokenField.lastIndex(of: "."), json[tokenField] == nil, let parent = json.value(atPath: String(tokenField[..<dot])) {
            holders.append(parent)
        }
        return (trimmed, expiry(holders: holders, root: json, expiresInField: expiresInField, token: trimmed, nowMs: nowMs))
    }

    static func expiry(holders: [JSONValue], root: JSONValue, expiresInField: String, token: String, nowMs: Int64) -> Int64? {
        if let seconds = number(root.value(atPath: expiresInField)) ?? holders.dropFirst().lazy.compactMap({ number($0[expiresInField]) }).first, seconds > 0 {
            return nowMs + Int64(seconds * 1000)
        }
        for holder in holders {
            if let at = number(holder["expiresAt"] ?? holder["expires_at"]), at > 0 {
                // Documented as milliseconds; a value this small can only be seconds (it would be 1973 in ms).
                return at < 100_000_000_000 ? Int64(at * 1000) : Int64(at)
            }
            if let exp = number(holder["exp"]), exp > 0 { return Int64(exp * 1000) }
        }
        return jwtExpiryMs(token)
    }

    /// The `exp` claim of a JWT (header.payload.signature), in ms; nil for anything else.
    public static func jwtExpiryMs(_ token: String) -> Int64? {
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3, let payload = Base64URL.decode(segments[1]),
            let claims = try? JSONParser.parse(payload), let exp = number(claims["exp"]), exp > 0
        else { return nil }
        return Int64(exp * 1000)
    }

    /// A number, or a string holding one (some backends quote them). Bounded so the conversions
    /// to Int64 above cannot trap on absurd values.
    private static func number(_ value: JSONValue?) -> Double? {
        let d: Double?
        switch value {
        case .number(let n)?: d = Double(n)
        case .string(let s)?: d = Double(s.trimmingWhitespace())
        default: d = nil
        }
        guard let d, d.isFinite, abs(d) < 1e15 else { return nil }
        return d
    }
}

/// Base64url without padding (RFC 4648 §5), as JWTs use it; standard base64 and padding are accepted too.
enum Base64URL {
    static func decode(_ text: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for c in text.utf8 {
            let v: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(c - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "-"), UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "_"), UInt8(ascii: "/"): v = 63
            case UInt8(ascii: "="): continue
            default: return nil
            }
            buffer = buffer << 6 | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
                buffer &= (1 << UInt32(bits)) - 1
            }
        }
        return out
    }
}
