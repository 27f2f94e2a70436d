import Foundation

/// Reads the markup of one `<tool_calls>` block (tool-protocol.md) into calls. Tolerant where a
/// model is sloppy (quotes, whitespace, a missing `</invoke>` before the next one), strict where a
/// guess would change meaning (no name, an unterminated parameter).
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

    /// `cutOff`: the answer ended before `</tool_calls>`; complete invokes still count, but a
    /// last one without `</invoke>` may be missing parameters and is refused.
    public static func parse(_ block: String, cutOff: Bool = false) throws(Failure) -> [Call] {
        var calls: [Call] = []
        var rest = Substring(block)
        while let open = rest.range(of: "<invoke") {
            rest = rest[open.upperBound...]
            guard let tagEnd = rest.firstIndex(of: ">") else { throw Failure(description: "an <invoke> tag is not closed with '>'") }
            guard let name = attribute("name", in: rest[..<tagEnd]), !name.isEmpty else {
                throw Failure(description: "an <invoke> has no name attribute")
            }
            rest = rest[rest.index(after: tagEnd)...]
            let close = rest.range(of: "</invoke>")
            let next = rest.range(of: "<invoke")
            let body: Substring
            if let close, next.map({ close.lowerBound < $0.lowerBound }) ?? true {
                body = rest[..<close.lowerBound]
                rest = rest[close.upperBound...]
            } else if let next {
                body = rest[..<next.lowerBound]  // a sloppy model forgot </invoke>
                rest = rest[next.lowerBound...]
            } else {
                if cutOff { throw Failure(description: "the call to \(name) was cut off before </invoke>") }
                body = rest
                rest = rest[rest.endIndex...]
            }
            calls.append(Call(name: name, arguments: try arguments(body, tool: name)))
        }
        if calls.isEmpty { throw Failure(description: "the <tool_calls> block holds no <invoke name=\"…\"> element") }
        return calls
    }

    private static func arguments(_ body: Substring, tool: String) throws(Failure) -> Call.Arguments {
        let trimmed = body.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("{") { return .json(trimmed) }
        var params: [(String, String)] = []
        var rest = body
        while let open = rest.range(of: "<parameter") {
            rest = rest[open.upperBound...]
            guard let tagEnd = rest.firstIndex(of: ">") else { throw Failure(description: "a <parameter> tag of \(tool) is not closed with '>'") }
            guard let name = attribute("name", in: rest[..<tagEnd]), !name.isEmpty else {
                throw Failure(description: "a <parameter> of \(tool) has no name attribute")
            }
            rest = rest[rest.index(after: tagEnd)...]
            var value: Substring
            let cdataStart = rest.range(of: "<![CDATA[")
            let close = rest.range(of: "</parameter>")
            if let cdataStart, close.map({ cdataStart.lowerBound < $0.lowerBound }) ?? true,
                rest[..<cdataStart.lowerBound].allSatisfy(\.isWhitespace)
            {
                guard let cdataEnd = rest[cdataStart.upperBound...].range(of: "]]>") else {
                    throw Failure(description: "the CDATA value of \(tool).\(name) is not closed with ]]>")
                }
                value = rest[cdataStart.upperBound..<cdataEnd.lowerBound]
                rest = rest[cdataEnd.upperBound...]
                guard let after = rest.range(of: "</parameter>") else { throw Failure(description: "the parameter \(tool).\(name) is not closed with </parameter>") }
                rest = rest[after.upperBound...]
            } else {
                guard let close else { throw Failure(description: "the parameter \(tool).\(name) is not closed with </parameter>") }
                value = rest[..<close.lowerBound]
                rest = rest[close.upperBound...]
            }
            params.append((name, String(value)))
        }
        return .parameters(params)
    }

    /// `name="value"` or `name='value'` inside a tag.
    public static func attribute(_ key: String, in tag: Substring) -> String? {
        guard let k = tag.range(of: key) else { return nil }
        var rest = tag[k.upperBound...].drop { $0.isWhitespace }
        guard rest.first == "=" else { return nil }
        rest = rest.dropFirst().drop { $0.isWhitespace }
        guard let quote = rest.first, quote == "\"" || quote == "'" else {
            return rest.prefix { !$0.isWhitespace && $0 != "/" }.description
        }
        rest = rest.dropFirst()
        guard let end = rest.firstIndex(of: quote) else { return nil }
        return String(rest[..<end])
    }
}
