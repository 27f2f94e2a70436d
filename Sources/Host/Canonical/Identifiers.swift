/// Random identifiers in the shapes clients expect.
enum Identifiers {
    private static let alphanumerics: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func random(_ count: Int, from alphabet: [UInt8]) -> String {
        var rng = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: count)
        for i in 0..<count { bytes[i] = alphabet[Int(rng.next(upperBound: UInt32(alphabet.count)))] }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func requestID() -> String { random(32, from: hexDigits) }
    static func chatCompletionID() -> String { "chatcmpl-" + random(24, from: alphanumerics) }
    static func openAIToolCallID() -> String { "call_" + random(24, from: alphanumerics) }
    static func anthropicToolUseID() -> String { "toolu_" + random(24, from: alphanumerics) }
    static func anthropicMessageID() -> String { "msg_" + random(24, from: alphanumerics) }
}
