import Foundation

/// Reads the markup of one `<tool_calls>` block (tool-protocol.md) into calls. Tolerant where a
/// model is sloppy (quotes, whitespace, a missing `</invoke>` before the next one), strict where a
/// guess would change meaning (no name, an unterminated parameter).
///
/// Works on the block's UTF-8 bytes: every tag it looks for is ASCII, so byte search finds the same
/// places as a character search, without Foundation's string searching (which dominated the cost:
/// see README "Performance"). Searches are bounded by the closing tag they race against, so a block
/// is read in one pass.
public enum ToolCallParser {
    public struct Call: Equatable, Sendable {
        public enum Arguments: Equatable, Sendable {
            /// `<parameter name="…">raw</parameter>` pairs, values verbatim (CDATA unwrapped).
            case parameters([(name: String, value: String)])
            /// `<invoke name="…">{…}</invoke>`: the JSON text as written.
            case json(String)

            public static func == (a: Arguments, b: Arguments) -> Bool {
                switch (a, b) {
                case (.json(let x), .json(let y)): x == y
                case (.parameters(let x), .parameters(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.name == $1.name && $0.value == $1.value }
                default: false
                }
            }
        }

        public var name: String
        public var arguments: Arguments

        public init(name: String, arguments: Arguments) {
            self.name = name
            self.arguments = arguments
        }
    }

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    private static let invokeOpen = Array("<invoke".utf8)
    private static let invokeClose = Array("</invoke>".utf8)
    private static let parameterOpen = Array("<parameter".utf8)
    private static let parameterClose = Array("</parameter>".utf8)
    private static let cdataOpen = Array("<![CDATA[".utf8)
    private static let cdataClose = Array("]]>".utf8)

    /// `cutOff`: the answer ended before `</tool_calls>`; complete invokes still count, but a
    /// last one without `</invoke>` may be missing parameters and is refused.
    public static func parse(_ block: String, cutOff: Bool = false) throws(Failure) -> [Call] {
        let bytes = Array(block.utf8)
        return try bytes.withUnsafeBufferPointer { b throws(Failure) -> [Call] in
            var calls: [Call] = []
            var pos = 0
            let end = b.count
            while let open = find(invokeOpen, in: b, from: pos, to: end) {
                pos = open + invokeOpen.count
                guard let tagEnd = find(UInt8(ascii: ">"), in: b, from: pos, to: end) else {
                    throw Failure(description: "an <invoke> tag is not closed with '>'")
                }
                guard let name = attribute("name", in: b, from: pos, to: tagEnd), !name.isEmpty else {
                    throw Failure(description: "an <invoke> has no name attribute")
                }
                pos = tagEnd + 1
                let close = find(invokeClose, in: b, from: pos, to: end)
                // Only an `<invoke` before this invoke's close matters (a forgotten `</invoke>`).
                let next = find(invokeOpen, in: b, from: pos, to: close ?? end)
                let bodyEnd: Int
                if let close, next == nil {
                    bodyEnd = close
                    pos = close + invokeClose.count
                } else if let next {
                    bodyEnd = next  // a sloppy model forgot </invoke>
                    pos = next
                } else {
                    if cutOff { throw Failure(description: "the call to \(name) was cut off before </invoke>") }
                    bodyEnd = end
                    pos = end
                }
                calls.append(Call(name: name, arguments: try arguments(b, from: tagEnd + 1, to: bodyEnd, tool: name)))
            }
            if calls.isEmpty { throw Failure(description: "the <tool_calls> block holds no <invoke name=\"…\"> element") }
            return calls
        }
    }

    private static func arguments(_ b: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, tool: String) throws(Failure) -> Call.Arguments {
        if startsWithJSONObject(b, from: start, to: end) {
            return .json(text(b, start, end).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        var params: [(String, String)] = []
        var pos = start
        while let open = find(parameterOpen, in: b, from: pos, to: end) {
            pos = open + parameterOpen.count
            guard let tagEnd = find(UInt8(ascii: ">"), in: b, from: pos, to: end) else {
                throw Failure(description: "a <parameter> tag of \(tool) is not closed with '>'")
            }
            guard let name = attribute("name", in: b, from: pos, to: tagEnd), !name.isEmpty else {
                throw Failure(description: "a <parameter> of \(tool) has no name attribute")
            }
            pos = tagEnd + 1
            let close = find(parameterClose, in: b, from: pos, to: end)
            // CDATA counts only when it opens the value (whitespace before it) and before the close.
            if let cdataStart = find(cdataOpen, in: b, from: pos, to: close ?? end), isWhitespace(b, from: pos, to: cdataStart) {
                let valueStart = cdataStart + cdataOpen.count
                guard let cdataEnd = find(cdataClose, in: b, from: valueStart, to: end) else {
                    throw Failure(description: "the CDATA value of \(tool).\(name) is not closed with ]]>")
                }
                pos = cdataEnd + cdataClose.count
                guard let after = find(parameterClose, in: b, from: pos, to: end) else {
                    throw Failure(description: "the parameter \(tool).\(name) is not closed with </parameter>")
                }
                params.append((name, text(b, valueStart, cdataEnd)))
                pos = after + parameterClose.count
            } else {
                guard let close else { throw Failure(description: "the parameter \(tool).\(name) is not closed with </parameter>") }
                params.append((name, text(b, pos, close)))
                pos = close + parameterClose.count
            }
        }
        return .parameters(params)
    }

    /// `name="value"` or `name='value'` inside a tag.
    public static func attribute(_ key: String, in tag: Substring) -> String? {
        let bytes = Array(tag.utf8)
        return bytes.withUnsafeBufferPointer { attribute(key, in: $0, from: 0, to: $0.count) }
    }

    private static func attribute(_ key: String, in b: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> String? {
        guard let k = find(Array(key.utf8), in: b, from: start, to: end) else { return nil }
        // The rest of the tag is short: read it as characters, so any Unicode space counts as space.
        var rest = Substring(text(b, k + key.utf8.count, end)).drop { $0.isWhitespace }
        guard rest.first == "=" else { return nil }
        rest = rest.dropFirst().drop { $0.isWhitespace }
        guard let quote = rest.first, quote == "\"" || quote == "'" else {
            return rest.prefix { !$0.isWhitespace && $0 != "/" }.description
        }
        rest = rest.dropFirst()
        guard let close = rest.firstIndex(of: quote) else { return nil }
        return String(rest[..<close])
    }

    // MARK: bytes

    @inline(__always)
    private static func text(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self)
    }

    /// The first `needle` lying wholly inside `start..<end`.
    private static func find(_ needle: [UInt8], in b: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
        let count = needle.count
        guard count > 0, end - start >= count else { return nil }
        let first = needle[0]
        var i = start
        let last = end - count
        while i <= last {
            if b[i] == first {
                var k = 1
                while k < count, b[i + k] == needle[k] { k += 1 }
                if k == count { return i }
            }
            i += 1
        }
        return nil
    }

    private static func find(_ byte: UInt8, in b: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
        var i = start
        while i < end {
            if b[i] == byte { return i }
            i += 1
        }
        return nil
    }

    /// Only whitespace in `start..<end` (ASCII fast path; otherwise as characters).
    private static func isWhitespace(_ b: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Bool {
        var ascii = true
        for i in start..<end {
            switch b[i] {
            case 0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D: continue
            case 0x80...: ascii = false
            default: return false
            }
        }
        return ascii || text(b, start, end).allSatisfy(\.isWhitespace)
    }

    /// The body's first non-whitespace character is `{` (then it is one JSON object).
    private static func startsWithJSONObject(_ b: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Bool {
        var i = start
        while i < end {
            switch b[i] {
            case 0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D: i += 1
            case UInt8(ascii: "{"): return true
            case 0x80...:
                // Unicode whitespace before the brace: fall back to Foundation's view of it.
                return text(b, start, end).trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{")
            default: return false
            }
        }
        return false
    }
}
