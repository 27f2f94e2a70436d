/// Turns a parsed call into the arguments JSON a client receives, checked against the tool's JSON
/// schema: declared parameters, required ones present, types right (with the safe coercions a
/// model needs: "5" → 5, "true" → true, 5 → "5"), enum values (case-insensitively), and
/// slightly malformed JSON repaired. Anything it cannot make valid is a Problem that says exactly
/// what is wrong, so the model can be told on a retry.
enum ToolArgumentChecker {
    struct Problem: Error, Equatable, CustomStringConvertible {
        var description: String
    }

    static func arguments(for call: ToolCallParser.Call, tool: CanonicalRequest.Tool) throws(Problem) -> String {
        let schema = tool.parameters.objectValue ?? JSONObject()
        let properties = schema["properties"]?.objectValue ?? JSONObject()
        let closed = schema["additionalProperties"] == .bool(false)
        var args = JSONObject()
        switch call.arguments {
        case .json(let text):
            guard case .object(let o)? = parseRepairing(text) else {
                throw Problem(description: "the arguments of \(tool.name) are not a JSON object")
            }
            args = o
        case .parameters(let pairs):
            for (name, raw) in pairs {
                guard let property = properties[name] else {
                    if closed { throw Problem(description: "\(tool.name) has no parameter \"\(name)\" (it takes: \(properties.keys.joined(separator: ", ")))") }
                    args[name] = .string(raw)
                    continue
                }
                let types = Self.types(of: property)
                if types.isEmpty || types.contains("string") {
                    args[name] = .string(raw)
                } else if let value = parseRepairing(raw.trimmingCharacters(in: .whitespacesAndNewlines)) {
                    args[name] = value
                } else {
                    // A bare word for a number or boolean: the coercion below may still fix it.
                    args[name] = .string(raw.trimmingCharacters(in: .whitespacesAndNewlines))
                }
            }
        }
        var checked = JSONObject()
        for (name, value) in args.entries {
            guard let property = properties[name] else {
                if closed { throw Problem(description: "\(tool.name) has no parameter \"\(name)\" (it takes: \(properties.keys.joined(separator: ", ")))") }
                checked[name] = value
                continue
            }
            checked[name] = try coerce(value, to: property, path: "\(tool.name).\(name)")
        }
        for case .string(let name) in schema["required"]?.arrayValue ?? [] where checked[name] == nil {
            throw Problem(description: "\(tool.name) needs the parameter \"\(name)\"")
        }
        return JSONValue.object(checked).serialized
    }

    /// The JSON types a schema allows (`type`, a list of types, or anyOf/oneOf alternatives).
    static func types(of schema: JSONValue) -> Set<String> {
        var out = Set<String>()
        switch schema["type"] {
        case .string(let t)?: out.insert(t)
        case .array(let list)?: for case .string(let t) in list { out.insert(t) }
        default: break
        }
        for key in ["anyOf", "oneOf"] {
            for alternative in schema[key]?.arrayValue ?? [] { out.formUnion(types(of: alternative)) }
        }
        if out.isEmpty, let e = schema["enum"]?.arrayValue, e.allSatisfy({ $0.stringValue != nil }) { out.insert("string") }
        return out
    }

    static func coerce(_ value: JSONValue, to schema: JSONValue, path: String) throws(Problem) -> JSONValue {
        let types = Self.types(of: schema)
        var v = value
        if !types.isEmpty, !matches(v, types) {
            v = try convert(v, to: types, path: path)
        }
        if let allowed = schema["enum"]?.arrayValue, !allowed.isEmpty, !allowed.contains(v) {
            if case .string(let s) = v, let match = allowed.first(where: { $0.stringValue?.lowercased() == s.lowercased() }) {
                v = match
            } else {
                throw Problem(description: "\(path) must be one of \(allowed.map(\.serialized).joined(separator: ", ")), got \(v.serialized.prefix(80))")
            }
        }
        return v
    }

    private static func matches(_ v: JSONValue, _ types: Set<String>) -> Bool {
        switch v {
        case .null: types.contains("null")
        case .bool: types.contains("boolean")
        case .string: types.contains("string")
        case .array: types.contains("array")
        case .object: types.contains("object")
        case .number: types.contains("number") || (types.contains("integer") && v.intValue != nil)
        }
    }

    private static func convert(_ v: JSONValue, to types: Set<String>, path: String) throws(Problem) -> JSONValue {
        let text: String? = {
            switch v {
            case .string(let s): return s.trimmingCharacters(in: .whitespacesAndNewlines)
            default: return nil
            }
        }()
        if let text {
            if types.contains("integer"), let i = Int(text) { return .number(String(i)) }
            if types.contains("number"), Double(text) != nil, case .number? = try? JSONParser.parse(text) { return .number(text) }
            if types.contains("boolean") {
                switch text.lowercased() {
                case "true", "yes": return .bool(true)
                case "false", "no": return .bool(false)
                default: break
                }
            }
            if types.contains("array") || types.contains("object"), let parsed = parseRepairing(text), matches(parsed, types) { return parsed }
            if types.contains("null"), text == "null" { return .null }
        }
        if types.contains("string") {
            switch v {
            case .number(let n): return .string(n)
            case .bool(let b): return .string(b ? "true" : "false")
            default: break
            }
        }
        if types.contains("integer"), case .number(let n) = v, let d = Double(n), d.rounded() == d { return .number(String(Int(d))) }
        let expected = types.sorted().joined(separator: " or ")
        throw Problem(description: "\(path) must be \(expected), got \(v.serialized.prefix(80))")
    }

    /// Strict JSON first; then the repairs a model typically needs: a code fence around it,
    /// trailing commas, single quotes, Python's True/False/None.
    static func parseRepairing(_ text: String) -> JSONValue? {
        if let v = try? JSONParser.parse(text) { return v }
        var t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.hasPrefix("```") {
            t = String(t.drop { $0 != "\n" }.dropFirst())
            if t.hasSuffix("```") { t = String(t.dropLast(3)) }
        }
        t = t.replacing(/,\s*([}\]])/) { "\($0.output.1)" }
        if !t.contains("\"") { t = t.replacingOccurrences(of: "'", with: "\"") }
        t = t.replacing(/\bTrue\b/, with: "true").replacing(/\bFalse\b/, with: "false").replacing(/\bNone\b/, with: "null")
        return try? JSONParser.parse(t)
    }
}

import Foundation
