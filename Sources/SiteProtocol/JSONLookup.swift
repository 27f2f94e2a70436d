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
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var pendingSpace = false
        for scalar in unicodeScalars {
            let v = scalar.value
            let isSpace = v < 0x80 ? (v == 0x20 || (v >= 0x09 && v <= 0x0D)) : scalar.properties.isWhitespace
            if isSpace {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace { out.append(0x20) }
            pendingSpace = false
            if v < 0x80 { out.append(UInt8(v)) } else { out.append(contentsOf: UTF8.encode(scalar)!) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// At most `limit` characters, marked with "…" when something was cut.
    func truncated(to limit: Int) -> String {
        guard count > limit else { return self }
        return String(prefix(max(0, limit - 1))) + "…"
    }
}
