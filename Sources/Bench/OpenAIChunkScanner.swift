/// Reads just what the bench needs out of OpenAI-compatible answers without a full JSON parse
/// (the load generator must stay cheap next to the gateway it measures): the `content` string of a
/// chunk or a message, whether a payload is an error object, and `[DONE]`.
enum OpenAIChunkScanner {
    private static let contentKey = Array(#""content":"#.utf8)
    private static let errorKey = Array(#""error""#.utf8)

    static func isDone(_ payload: ArraySlice<UInt8>) -> Bool {
        payload.elementsEqual("[DONE]".utf8)
    }

    /// `{"error":…}` at the top level: a mid-stream failure (mix2api, LiteLLM and OpenAI all use it).
    static func isError(_ payload: ArraySlice<UInt8>) -> Bool {
        var i = payload.startIndex
        while i < payload.endIndex, payload[i] == UInt8(ascii: " ") { i += 1 }
        guard i < payload.endIndex, payload[i] == UInt8(ascii: "{") else { return false }
        i += 1
        while i < payload.endIndex, payload[i] == UInt8(ascii: " ") { i += 1 }
        return payload[i...].starts(with: errorKey)
    }

    /// The decoded value of the first `"content":"…"` (nil when absent or null). Inside a JSON
    /// string every quote is escaped, so the key's bytes cannot match text inside a value.
    static func content(in payload: ArraySlice<UInt8>) -> [UInt8]? {
        guard let keyEnd = find(contentKey, in: payload) else { return nil }
        var i = keyEnd
        while i < payload.endIndex, payload[i] == UInt8(ascii: " ") { i += 1 }
        guard i < payload.endIndex, payload[i] == UInt8(ascii: "\"") else { return nil }
        return decodeString(payload, from: i + 1)
    }

    private static func find(_ needle: [UInt8], in hay: ArraySlice<UInt8>) -> Int? {
        guard let first = needle.first, hay.count >= needle.count else { return nil }
        var i = hay.startIndex
        let last = hay.endIndex - needle.count
        while i <= last {
            if hay[i] == first, hay[i..<(i + needle.count)].elementsEqual(needle) { return i + needle.count }
            i += 1
        }
        return nil
    }

    /// A JSON string body starting after its opening quote, as UTF-8; nil if it never closes.
    static func decodeString(_ bytes: ArraySlice<UInt8>, from start: Int) -> [UInt8]? {
        var out: [UInt8] = []
        var i = start
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { return out }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                i += 1
                continue
            }
            guard i + 1 < bytes.endIndex else { return nil }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                guard var scalar = hex4(bytes, i) else { return nil }
                i += 4
                if (0xD800..<0xDC00).contains(scalar), i + 6 <= bytes.endIndex, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u"),
                    let low = hex4(bytes, i + 2), (0xDC00..<0xE000).contains(low)
                {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8))
            default: out.append(e)  // \" \\ \/
            }
        }
        return nil
    }

    private static func hex4(_ bytes: ArraySlice<UInt8>, _ at: Int) -> UInt32? {
        guard at + 4 <= bytes.endIndex else { return nil }
        var v: UInt32 = 0
        for k in at..<(at + 4) {
            let c = bytes[k]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: return nil
            }
            v = v << 4 | d
        }
        return v
    }
}
