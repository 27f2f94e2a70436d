import HTTPTypes

/// Request headers as they may be logged (LOG_HEADERS) or traced: credential headers keep their
/// name with the value replaced; every other value passes through the Redactor.
enum HeaderRedaction {
    /// One entry per header name, in first-seen order (repeated fields, such as split cookies,
    /// are joined).
    static func sanitized(_ headers: HTTPFields) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        for field in headers {
            let name = field.name.canonicalName
            let value = isCredential(name) ? "<redacted>" : Redactor.redact(field.value)
            if let i = out.firstIndex(where: { $0.name == name }) {
                if out[i].value != value { out[i].value += ", " + value }
            } else {
                out.append((name, value))
            }
        }
        return out
    }

    static func isCredential(_ name: String) -> Bool {
        let n = name.lowercased()
        if ["authorization", "proxy-authorization", "x-api-key", "api-key", "cookie", "set-cookie"].contains(n) { return true }
        return ["token", "secret", "password", "apikey", "api-key", "auth", "cookie", "credential", "signature"].contains { n.contains($0) }
    }

    static func json(_ headers: HTTPFields) -> JSONValue {
        .object(JSONObject(sanitized(headers).map { ($0.name, .string($0.value)) }))
    }
}
