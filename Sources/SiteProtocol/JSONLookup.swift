import JSONCore

/// Small tolerant readers over JSONValue. The site's field names vary between builds
/// (`sessionId` / `session_id`), so most lookups try several names and accept what is usable.
extension JSONValue {
    /// The first of `keys` that holds a non-empty string.
    func firstString(_ keys: String...) -> String? { firstString(keys) }

    func firstString(_ keys: [String]) -> String? {
        guard let object = objectValue else { return nil }
        for key in keys {
            if let s = object[key]?.stringValue, !s.isEmpty { return s }
        }
        return nil
    }

    /// The first of `keys` that holds a whole number (also as a numeric string: some backends quote them).
    func firstInt(_ keys: [String]) -> Int? {
        guard let object = objectValue else { return nil }
        for key in keys {
            switch object[key] {
            case .number?: if let i = object[key]?.intValue { return i }
            case .string(let s)?: if let i = Int(s.trimmingWhitespace()) { return i }
            default: continue
            }
        }
        return nil
    }

    /// A value at a dotted path (`data.token`). A key that itself contains dots is tried whole first.
    func value(atPath path: String) -> JSONValue? {
        if let direct = self[path] { return direct }
        var current: JSONValue = self
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard let next = current[String(part)] else { return nil }
            current = next
        }
        return current
    }
}

extension String {
    /// Leading and trailing Unicode whitespace removed (Foundation-free).
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }

    /// Every run of whitespace replaced by one space, and the ends trimmed. Unicode whitespace,
    /// with ASCII decided without a property lookup: the conversation key runs this over every
    /// message of every request (the tool prompt alone is kilobytes), and the property lookup per
    /// scalar was a tenth of the site driver's CPU (README "Performance").
    func collapsingWhitespace() -> String {
        // Over the UTF-8 bytes in place: a scalar is decoded only when it is not ASCII, to ask
        // whether it is whitespace (the string is valid UTF-8, so sequences are whole).
        var text = self
        return text.withUTF8 { bytes in
            String(unsafeUninitializedCapacity: bytes.count) { out in
                var n = 0
                var i = 0
                var pendingSpace = false
                while i < bytes.count {
                    let lead = bytes[i]
                    var length = 1
                    let isSpace: Bool
                    if lead < 0x80 {
                        isSpace = lead == 0x20 || (lead >= 0x09 && lead <= 0x0D)
                    } else {
                        length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
                        var value = UInt32(lead) & (lead >= 0xF0 ? 0x07 : lead >= 0xE0 ? 0x0F : 0x1F)
                        for k in 1..<length { value = value << 6 | UInt32(bytes[i + k] & 0x3F) }
                        isSpace = Unicode.Scalar(value)?.properties.isWhitespace ?? false
                    }
                    if isSpace {
                        pendingSpace = n > 0
                    } else {
                        // Never longer than the input: one space stands for at least one byte.
                        if pendingSpace {
                            out[n] = 0x20
                            n += 1
                            pendingSpace = false
                        }
                        for k in 0..<length { out[n + k] = bytes[i + k] }
                        n += length
                    }
                    i += length
                }
                return n
            }
        }
    }

    /// At most `limit` characters, marked with "…" when something was cut.
    func truncated(to limit: Int) -> String {
        guard count > limit else { return self }
        return String(prefix(max(0, limit - 1))) + "…"
    }
}
