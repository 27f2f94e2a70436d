/// One line of an HTTP/1 response head as libcurl hands it over (CRLF included): a status line or
/// a header. Pure byte work: the ASCII whitespace HTTP allows around a header (space, tab, and the
/// line's CR LF) is all there is to trim, and Foundation's Unicode-aware trimming cost about 30 µs
/// per response in a profile of the site driver (README "Performance").
public enum HTTPHeaderLine: Equatable, Sendable {
    /// "HTTP/1.1 200 OK": a new response begins (after a 100-continue or a redirect too).
    case status(Int)
    /// A header, its name lower-cased and its value without surrounding whitespace.
    case header(name: String, value: String)
    /// The blank line that ends the head, or a line that is neither of the above.
    case other

    public init(_ line: String) {
        let trimmed = Self.trimmed(Substring(line))
        if trimmed.hasPrefix("HTTP/") {
            let parts = trimmed.split(separator: " ", maxSplits: 2)
            self = .status(parts.count > 1 ? Int(parts[1]) ?? 0 : 0)
            return
        }
        guard let colon = trimmed.utf8.firstIndex(of: UInt8(ascii: ":")) else {
            self = .other
            return
        }
        self = .header(name: trimmed[..<colon].lowercased(), value: String(Self.trimmed(trimmed[trimmed.index(after: colon)...])))
    }

    static func trimmed(_ text: Substring) -> Substring {
        let bytes = text.utf8
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, isSpace(bytes[start]) { start = bytes.index(after: start) }
        while end > start, isSpace(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
        // Whitespace is ASCII, so both ends sit on character boundaries.
        return text[start..<end]
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }
}
