import HTTPTypes

/// Checks the key new-api (or any caller) presents. Constant-time over every configured key, so
/// response timing says nothing about how much of a key was right.
struct InboundAuth: Sendable {
    let mode: HostConfig.AuthMode
    let keys: [[UInt8]]

    init(mode: HostConfig.AuthMode, tokens: [String]) {
        self.mode = mode
        self.keys = tokens.map { Array($0.utf8) }
    }

    /// The presented credential: `Authorization: Bearer …` or `x-api-key` (Anthropic clients).
    static func credential(_ headers: HTTPFields) -> String? {
        if let auth = headers[.authorization] {
            let parts = auth.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return parts[1].trimmingCharacters(in: .whitespaces) }
        }
        if let key = headers[HTTPField.Name("x-api-key")!], !key.isEmpty { return key }
        return nil
    }

    func authorize(_ headers: HTTPFields) -> ClientError? {
        guard mode == .bearer else { return nil }
        guard let presented = Self.credential(headers) else {
            return ClientError(status: 401, type: "authentication_error", code: "missing_api_key", message: "missing API key: send Authorization: Bearer <key>", endReason: .authError)
        }
        let p = Array(presented.utf8)
        var matched = false
        for key in keys where Self.constantTimeEquals(p, key) { matched = true }
        return matched ? nil : ClientError(status: 401, type: "authentication_error", code: "invalid_api_key", message: "invalid API key", endReason: .authError)
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            diff |= x ^ y
        }
        return diff == 0
    }
}
