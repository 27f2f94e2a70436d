/// The site's most frequent frame by far, `{"type":"text-delta","id":"…","delta":"…"}` written
/// compactly with plain strings, read without building a JSON tree (once per token; README
/// "Performance"). Anything else (other key order, spaces, escapes, control bytes) returns nil and
/// goes through the full decoder, so both paths always agree.
enum TextDeltaFastPath {
    private static let head = Array(#"{"type":"text-delta","id":""#.utf8)
    private static let middle = Array(#"","delta":""#.utf8)

    static func delta(in payload: String) -> String? {
        var payload = payload
        return payload.withUTF8 { b -> String? in
            guard b.count > head.count + middle.count + 2, b[b.count - 1] == UInt8(ascii: "}"), b[b.count - 2] == UInt8(ascii: "\""),
                b.starts(with: head)
            else { return nil }
            // The id: plain characters up to its quote.
            var i = head.count
            while i < b.count, isPlain(b[i]) { i += 1 }
            guard b.count - i >= middle.count, UnsafeBufferPointer(rebasing: b[i..<(i + middle.count)]).elementsEqual(middle) else { return nil }
            let start = i + middle.count
            let end = b.count - 2
            var k = start
            while k < end, isPlain(b[k]) { k += 1 }
            guard k == end else { return nil }
            // The payload is a Swift String, so these bytes are valid UTF-8 already.
            return String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self)
        }
    }

    /// Not a quote, a backslash or a control byte: the byte stands for itself inside a JSON string.
    @inline(__always)
    private static func isPlain(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
    }
}
