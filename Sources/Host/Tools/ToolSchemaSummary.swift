import Foundation

/// Short, human-readable summaries of JSON schemas for the tool prompt. Agents send 10–20 tools
/// with large schemas; the model needs each parameter's name, type and required flag, not the
/// schema itself. Everything here is deterministic: schema key order is kept, nothing is hashed.
enum ToolSchemaSummary {
    /// One parameter of a tool, ready to print.
    struct Parameter: Equatable {
        var name: String
        /// `string`, `integer|null`, `array<string>`, `object`…
        var type: String
        /// `a|b|c` when the schema lists the allowed values (enum or const).
        var allowed: String?
        var required: Bool
        var description: String
        /// The properties of an object (or of an array's object items), one level deep.
        var fields: [Parameter] = []
        /// Whether `fields` describe the items of an array rather than the object itself.
        var fieldsAreItems = false
    }

    static let parameterDescriptionLimit = 120
    static let toolDescriptionLimit = 300
    /// Long enum lists are cut: they are hints, and the checker validates values anyway.
    static let enumLimit = 30

    /// The top-level parameters of a tool's `parameters` schema, in schema order.
    static func parameters(of schema: JSONValue) -> [Parameter] {
        let root = resolve(schema, root: schema)
        return properties(of: root, root: schema, depth: 0)
    }

    /// The JSON types a property allows, without the array/enum decoration: what the history
    /// renderer needs to decide between a raw string and JSON.
    static func jsonTypes(of schema: JSONValue, root: JSONValue) -> [String] {
        let s = resolve(schema, root: root)
        var out: [String] = []
        func add(_ t: String) { if !out.contains(t) { out.append(t) } }
        switch s["type"] {
        case .string(let t)?: add(t)
        case .array(let list)?: for case .string(let t) in list { add(t) }
        default: break
        }
        for key in ["anyOf", "oneOf"] {
            for alternative in s[key]?.arrayValue ?? [] { jsonTypes(of: alternative, root: root).forEach(add) }
        }
        if out.isEmpty, let all = s["allOf"]?.arrayValue {
            for part in all { jsonTypes(of: part, root: root).forEach(add) }
        }
        if out.isEmpty {
            if s["properties"] != nil { add("object") } else if s["items"] != nil { add("array") }
        }
        if out.isEmpty, let values = s["enum"]?.arrayValue ?? s["const"].map({ [$0] }) {
            for v in values { add(v.typeName == "number" ? "number" : v.typeName) }
        }
        return out
    }

    /// The printed type: types joined with `|`, arrays as `array<item type>`, `any` when the
    /// schema does not say.
    static func typeText(of schema: JSONValue, root: JSONValue, depth: Int = 0) -> String {
        let s = resolve(schema, root: root)
        var parts: [String] = []
        func add(_ t: String) { if !parts.contains(t) { parts.append(t) } }
        let alternatives = (s["anyOf"]?.arrayValue ?? []) + (s["oneOf"]?.arrayValue ?? [])
        if !alternatives.isEmpty && s["type"] == nil {
            // Each alternative keeps its own decoration (`array<string>|string`).
            for alternative in alternatives where depth < 4 { add(typeText(of: alternative, root: root, depth: depth + 1)) }
        } else {
            for t in jsonTypes(of: s, root: root) {
                if t == "array" {
                    add("array<\(itemTypeText(of: s, root: root, depth: depth))>")
                } else {
                    add(t)
                }
            }
        }
        return parts.isEmpty ? "any" : parts.joined(separator: "|")
    }

    /// `a|b|c` for an enum or const; nil when values are free.
    static func allowedValues(of schema: JSONValue, root: JSONValue) -> String? {
        let s = resolve(schema, root: root)
        var values = s["enum"]?.arrayValue ?? s["const"].map { [$0] } ?? []
        if values.isEmpty {
            // anyOf of consts is how some generators spell an enum.
            let alternatives = (s["anyOf"]?.arrayValue ?? []) + (s["oneOf"]?.arrayValue ?? [])
            let consts = alternatives.compactMap { resolve($0, root: root)["const"] }
            if !consts.isEmpty && consts.count == alternatives.count { values = consts }
        }
        guard !values.isEmpty else { return nil }
        let shown = values.prefix(enumLimit).map { $0.stringValue ?? $0.serialized }
        let more = values.count > enumLimit ? "|…(\(values.count - enumLimit) more)" : ""
        return shown.joined(separator: "|") + more
    }

    /// A parameter description: its first sentence (or `limit` characters), on one line.
    static func shortDescription(_ text: String, limit: Int) -> String {
        guard let first = units(text).first else { return "" }
        return cut(first, limit: limit)
    }

    /// A tool description: whole sentences (or list lines) of its first paragraph, up to `limit`
    /// characters. Claude Code's descriptions run to pages; the first sentences say what the
    /// tool is for, the rest is usage advice the protocol cannot afford on every turn.
    static func toolDescription(_ text: String, limit: Int = toolDescriptionLimit) -> String {
        var taken = ""
        for unit in units(text) {
            let candidate = taken.isEmpty ? unit : taken + " " + unit
            guard candidate.count <= limit else { break }
            taken = candidate
        }
        if taken.isEmpty, let first = units(text).first { return cut(first, limit: limit) }
        return taken
    }

    /// Cut at a word boundary so the model does not see half a word.
    private static func cut(_ text: String, limit: Int) -> String {
        if text.count <= limit { return text }
        let head = text.prefix(limit - 1)
        let atWord = head.lastIndex(of: " ").map { head[..<$0] } ?? head
        return atWord.trimmingTrailingPunctuation() + "…"
    }

    /// The first paragraph as sentences, a line end also ending one (bulleted descriptions have
    /// no full stops), whitespace collapsed.
    private static func units(_ text: String) -> [String] {
        var out: [String] = []
        for line in firstParagraph(text).split(separator: "\n") {
            var rest = line.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            while !rest.isEmpty {
                let sentence = firstSentence(rest)
                out.append(sentence)
                rest = String(rest.dropFirst(sentence.count).drop { $0 == " " })
            }
        }
        return out
    }

    // MARK: Helpers

    private static func properties(of schema: JSONValue, root: JSONValue, depth: Int) -> [Parameter] {
        guard let props = schema["properties"]?.objectValue else { return [] }
        let required = Set((schema["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        return props.entries.map { entry in
            let property = resolve(entry.value, root: root)
            var p = Parameter(
                name: entry.key,
                type: typeText(of: property, root: root),
                allowed: allowedValues(of: property, root: root),
                required: required.contains(entry.key),
                description: shortDescription(property["description"]?.stringValue ?? "", limit: parameterDescriptionLimit))
            if depth == 0 {
                // One level of nesting: an object's properties, or an array's object items'.
                if let objectSchema = nestedObject(property, root: root) {
                    p.fields = properties(of: objectSchema.schema, root: root, depth: depth + 1)
                    p.fieldsAreItems = objectSchema.isItems
                }
            }
            return p
        }
    }

    private static func nestedObject(_ schema: JSONValue, root: JSONValue) -> (schema: JSONValue, isItems: Bool)? {
        if schema["properties"]?.objectValue?.isEmpty == false { return (schema, false) }
        if let items = schema["items"] {
            let item = resolve(items, root: root)
            if item["properties"]?.objectValue?.isEmpty == false { return (item, true) }
        }
        for alternative in (schema["anyOf"]?.arrayValue ?? []) + (schema["oneOf"]?.arrayValue ?? []) {
            if let found = nestedObject(resolve(alternative, root: root), root: root) { return found }
        }
        return nil
    }

    private static func itemTypeText(of schema: JSONValue, root: JSONValue, depth: Int) -> String {
        switch schema["items"] {
        case .object?: return depth < 4 ? typeText(of: schema["items"]!, root: root, depth: depth + 1) : "any"
        case .array(let tuple)?:
            // Tuple form: the union of the positions' types.
            var parts: [String] = []
            for item in tuple where depth < 4 {
                let t = typeText(of: item, root: root, depth: depth + 1)
                if !parts.contains(t) { parts.append(t) }
            }
            return parts.isEmpty ? "any" : parts.joined(separator: "|")
        default: return "any"
        }
    }

    /// Follows a local `$ref` (`#/$defs/X`, `#/definitions/X`) into the root schema; other
    /// references stay as they are (and print as `any`).
    static func resolve(_ schema: JSONValue, root: JSONValue) -> JSONValue {
        var current = schema
        var hops = 0
        while let ref = current["$ref"]?.stringValue, ref.hasPrefix("#/"), hops < 8 {
            var target: JSONValue? = root
            for token in ref.dropFirst(2).split(separator: "/") {
                let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
                target = target?[key]
            }
            guard let target else { break }
            current = target
            hops += 1
        }
        return current
    }

    private static func firstParagraph(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let blank = trimmed.range(of: "\n\n") else { return trimmed }
        return String(trimmed[..<blank.lowerBound])
    }

    /// Up to and including the first `.`, `!` or `?` followed by a space (or the end), skipping
    /// the usual abbreviations.
    private static func firstSentence(_ text: String) -> String {
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "." || c == "!" || c == "?", i > 0, chars[i - 1] != " ", i + 1 == chars.count || chars[i + 1] == " " {
                let word = String(chars[..<i]).split(separator: " ").last.map { $0.filter { $0.isLetter || $0 == "." } }?.lowercased() ?? ""
                if c != "." || !["e.g", "i.e", "eg", "ie", "vs", "cf"].contains(word) {
                    return String(chars[...i])
                }
            }
            i += 1
        }
        return text
    }
}

extension Substring {
    fileprivate func trimmingTrailingPunctuation() -> String {
        var s = self
        while let last = s.last, last == "," || last == ";" || last == ":" || last == " " { s = s.dropLast() }
        return String(s)
    }
}
