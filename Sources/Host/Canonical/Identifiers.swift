/// Random identifiers in the shapes clients expect.
enum Identifiers {
    private static let alphanumerics: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// `count` characters drawn uniformly from `alphabet` (at most 256 symbols).
    ///
    /// Each random word gives eight characters: the system generator asks the kernel for every
    /// word it returns, and a character per call made a request's two ids ~56 `getrandom` calls,
    /// about 40 µs of CPU (README "Performance"). Bytes at or above the largest multiple of the
    /// alphabet's size are skipped, so every symbol stays equally likely.
    static func random(_ count: Int, from alphabet: [UInt8]) -> String {
        precondition(!alphabet.isEmpty && alphabet.count <= 256, "an alphabet of 1...256 symbols")
        let limit = 256 - 256 % alphabet.count
        var rng = SystemRandomNumberGenerator()
        return String(unsafeUninitializedCapacity: count) { out in
            var filled = 0
            while filled < count {
                var word: UInt64 = rng.next()
                for _ in 0..<8 where filled < count {
                    let byte = Int(word & 0xFF)
                    word >>= 8
                    if byte < limit {
                        out[filled] = alphabet[byte % alphabet.count]
                        filled += 1
                    }
                }
            }
            return count
        }
    }

    static func requestID() -> String { random(32, from: hexDigits) }
    static func chatCompletionID() -> String { "chatcmpl-" + random(24, from: alphanumerics) }
    static func openAIToolCallID() -> String { "call_" + random(24, from: alphanumerics) }
    static func anthropicToolUseID() -> String { "toolu_" + random(24, from: alphanumerics) }
    static func anthropicMessageID() -> String { "msg_" + random(24, from: alphanumerics) }
}
