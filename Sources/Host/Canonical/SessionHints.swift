import HTTPTypes

/// What the host tells a driver about the client's conversation and identity, beyond messages.
/// The scope isolates upstream sessions: a fingerprint of the inbound credential (never the
/// credential itself), plus the client's session key header, model and client per SESSION_KEY_MODE.
public struct SessionHints: Sendable {
    public enum KeyMode: String, Sendable { case auth, authModelClient = "auth_model_client", model }

    public var scope: String
    public var forceNew: Bool
    /// The raw inbound credential, only for drivers configured to pass it through to the upstream.
    public var inboundCredential: String?
    public var personaID: String?
    public var upstreamBaseURL: String?

    static let sessionIDHeader = HTTPField.Name("x-session-id")!
    static let personaHeader = HTTPField.Name("x-persona-id")!
    static let upstreamBaseHeader = HTTPField.Name("x-upstream-base-url")!

    static func make(headers: HTTPFields, request: CanonicalRequest, mode: KeyMode, keyHeader: HTTPField.Name?) -> SessionHints {
        let credential = InboundAuth.credential(headers)
        var parts: [String] = []
        if mode != .model { parts.append("auth=" + (credential.map { String(SHA256.hex(Array($0.utf8)).prefix(32)) } ?? "anonymous")) }
        if let keyHeader, let key = headers[keyHeader], !key.isEmpty { parts.append("key=" + key) }
        if mode != .auth { parts.append("model=" + request.model) }
        if mode == .authModelClient { parts.append("client=" + request.client.rawValue) }
        let forceNew = headers[sessionIDHeader]?.lowercased() == "new" || request.bodyHints.sessionID?.lowercased() == "new"
        return SessionHints(
            scope: String(SHA256.hex(Array(parts.joined(separator: "\u{1}").utf8)).prefix(40)),
            forceNew: forceNew,
            inboundCredential: credential,
            personaID: headers[personaHeader] ?? request.bodyHints.personaID,
            upstreamBaseURL: headers[upstreamBaseHeader] ?? request.bodyHints.upstreamBaseURL)
    }

    var json: JSONValue {
        var o = JSONObject([("scope", .string(scope)), ("force_new", .bool(forceNew))])
        if let personaID { o["persona_id"] = .string(personaID) }
        if let upstreamBaseURL { o["upstream_base_url"] = .string(upstreamBaseURL) }
        return .object(o)
    }
}
