/// `${NAME}` and `${NAME:-default}` in plugins.json strings. A string that is exactly one
/// placeholder and whose value reads as a JSON number or boolean becomes that number or boolean,
/// so `"delta_delay_ms": "${MOCK_DELAY_MS:-0}"` configures an integer.
enum EnvSubstitution {
    struct Failure: Error, CustomStringConvertible {
        var field: String
        var problem: String
        var description: String { problem }
    }

    static func substituteAll(_ value: JSONValue, environment: [String: String], field: String) throws(Failure) -> JSONValue {
        switch value {
        case .string(let s):
            do { return try substitute(s, environment: environment) } catch { throw Failure(field: field, problem: error.problem) }
        case .array(let items):
            var out: [JSONValue] = []
            for (i, item) in items.enumerated() { out.append(try substituteAll(item, environment: environment, field: "\(field)[\(i)]")) }
            return .array(out)
        case .object(let object):
            var out = JSONObject()
            for (key, item) in object.entries { out[key] = try substituteAll(item, environment: environment, field: "\(field).\(key)") }
            return .object(out)
        default:
            return value
        }
    }

    static func substitute(_ s: String, environment: [String: String]) throws(Failure) -> JSONValue {
        guard s.contains("${") else { return .string(s) }
        var out = ""
        var rest = Substring(s)
        var placeholders = 0
        while let open = rest.range(of: "${") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                throw Failure(field: "", problem: "unterminated ${ in \"\(s)\"")
            }
            let body = rest[open.upperBound..<close]
            let name: Substring
            let fallback: Substring?
            if let sep = body.range(of: ":-") {
                name = body[..<sep.lowerBound]
                fallback = body[sep.upperBound...]
            } else {
                name = body
                fallback = nil
            }
            guard isValidName(name) else { throw Failure(field: "", problem: "\"\(name)\" is not a valid environment variable name") }
            if let v = environment[String(name)], !(v.isEmpty && fallback != nil) {
                out += v
            } else if let fallback {
                out += fallback
            } else {
                throw Failure(field: "", problem: "environment variable \(name) is not set (write ${\(name):-default} to make it optional)")
            }
            placeholders += 1
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        let whole = placeholders == 1 && s.hasPrefix("${") && s.hasSuffix("}")
        if whole, let scalar = try? JSONParser.parse(out) {
            switch scalar {
            case .number, .bool: return scalar
            default: break
            }
        }
        return .string(out)
    }

    static func references(in text: String) -> Set<String> {
        var names = Set<String>()
        var rest = Substring(text)
        while let open = rest.range(of: "${"), let close = rest[open.upperBound...].firstIndex(of: "}") {
            let body = rest[open.upperBound..<close]
            let name = body.range(of: ":-").map { body[..<$0.lowerBound] } ?? body
            if isValidName(name) { names.insert(String(name)) }
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    static func isValidName(_ name: Substring) -> Bool {
        guard let first = name.utf8.first, !(first >= 0x30 && first <= 0x39) else { return false }
        return name.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }
}
