import DriverKit
import JSONCore
import PluginABI
import SiteProtocol

/// Client conversation → site session, in the shared state. Keys hold the host's isolation scope
/// (a fingerprint, never a credential) and a digest of the conversation; values carry
/// `schemaVersion` 1, and anything else stored under a key (another version, corrupt text) is a
/// miss: a new site session, never a failed request.
struct SiteSessions {
    let host: HostServices
    let ttlMs: Int

    struct Entry {
        var sessionID: String
        var exchangeID: String
    }

    private func key(scope: String, digest: String) -> String { "session:\(scope):\(digest)" }

    func lookup(scope: String, digest: String) -> Entry? {
        let text: String?
        do { text = try host.stateGet(key(scope: scope, digest: digest)) } catch {
            host.log(M2A_LOG_WARN, "session store unavailable; starting a new site session")
            return nil
        }
        guard let text else { return nil }
        guard let value = try? JSONParser.parse(text), value["schemaVersion"]?.intValue == 1,
            let session = value["sessionId"]?.stringValue, !session.isEmpty
        else {
            host.counterAdd("site_session_entries_unreadable")
            host.log(M2A_LOG_WARN, "ignoring a stored session entry that is corrupt or of an unknown schema version")
            return nil
        }
        return Entry(sessionID: session, exchangeID: value["exchangeId"]?.stringValue ?? "")
    }

    func store(scope: String, digest: String, _ entry: Entry) {
        let value: JSONValue = [
            "schemaVersion": 1, "sessionId": .string(entry.sessionID), "exchangeId": .string(entry.exchangeID),
            "updatedAtMs": .number(String(host.wallMilliseconds)),
        ]
        try? host.stateSet(key(scope: scope, digest: digest), value.serialized, ttlMilliseconds: UInt64(ttlMs))
    }

    func forget(scope: String, digest: String) {
        try? host.stateDelete(key(scope: scope, digest: digest))
    }
}
