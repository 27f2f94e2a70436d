import JSONCore
import SiteProtocol

/// What one canonical request (Sources/PluginABI/README.md) tells the site driver.
struct SiteRequestContext {
    var raw: JSONValue
    var model: String
    var stream: Bool
    var messages: [JSONValue]
    var scope: String
    var forceNew: Bool
    var inboundCredential: String?
    var personaID: String?
    var upstreamBaseURL: String?
    var requestID: String

    init(_ bytes: [UInt8]) throws(SiteFailure) {
        guard let value = try? JSONParser.parse(bytes), let o = value.objectValue else {
            throw SiteFailure(kind: .invalidRequest, message: "the host sent a request that is not a JSON object")
        }
        raw = value
        model = o["model"]?.stringValue ?? ""
        stream = o["stream"]?.boolValue ?? true
        messages = o["messages"]?.arrayValue ?? []
        let session = o["session"]?.objectValue
        scope = session?["scope"]?.stringValue ?? "unscoped"
        forceNew = session?["force_new"]?.boolValue ?? false
        personaID = session?["persona_id"]?.stringValue
        upstreamBaseURL = session?["upstream_base_url"]?.stringValue
        inboundCredential = o["inbound_credential"]?.stringValue
        requestID = o["request_id"]?.stringValue ?? ""
    }
}
