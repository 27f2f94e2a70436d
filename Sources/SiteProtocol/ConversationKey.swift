import Digest
import JSONCore

/// Maps a client conversation onto a site session without any id from the client: clients resend
/// the whole history each turn, so the history up to the site's last answer identifies the
/// conversation. After a turn the driver stores `storeDigest(request messages) → site session`;
/// on the next turn that same prefix ends right before the newest assistant message, so
/// `lookupDigest` finds it. The site's answer itself is never digested: the client may send it back
/// reformatted (tool calls parsed out of text, whitespace changes), and that must not break the match.
///
/// The digest ignores what clients change without meaning to (whitespace runs, JSON key order and
/// spacing inside tool arguments) and keeps everything else, so two different conversations of one
/// user never share a site session.
public enum ConversationKey {
    /// The digest to look up for this request: the history before the last assistant message, or nil
    /// on a first turn (no assistant message: nothing to continue).
    public static func lookupDigest(_ messages: [JSONValue]) -> String? {
        guard let k = lastAssistantIndex(messages) else { return nil }
        return digest(messages[..<k])
    }

    /// The digest to store after the site answered this request: all of its messages.
    public static func storeDigest(_ messages: [JSONValue]) -> String { digest(messages[...]) }

    /// Where the messages the site has not seen begin, when continuing its session: right after the
    /// last assistant message, or 0 on a first turn.
    public static func newMessagesStart(_ messages: [JSONValue]) -> Int {
        lastAssistantIndex(messages).map { $0 + 1 } ?? 0
    }

    /// SHA-256 hex over the canonical form of `messages`.
    public static func digest(_ messages: ArraySlice<JSONValue>) -> String {
        var hasher = SHA256()
        for message in messages { hasher.update(canonical(message)) }
        return SHA256.hexString(hasher.finalize())
    }

    static func lastAssistantIndex(_ messages: [JSONValue]) -> Int? {
        messages.lastIndex { $0["role"]?.stringValue == "assistant" }
    }

    /// One message as text: role, content, tool calls, tool_call_id. Variable fields are
    /// length-prefixed so that no content can imitate a field boundary.
    static func canonical(_ message: JSONValue) -> String {
        var out = ""
        func field(_ s: String) {
            out += String(s.utf8.count)
            out += ":"
            out += s
            out += "\u{1}"
        }
        out += (message["role"]?.stringValue ?? "") + "\u{1}"
        field(content(message["content"]).collapsingWhitespace())
        for call in message["tool_calls"]?.arrayValue ?? [] {
            out += "\u{2}"
            let function = call["function"] ?? call  // tolerate the OpenAI nesting too
            field(function["name"]?.stringValue ?? "")
            field(canonicalArguments(function["arguments"]))
        }
        out += "\u{3}"
        field(message["tool_call_id"]?.stringValue ?? "")
        out += "\u{1E}"
        return out
    }

    /// Content is a string in the canonical request; text parts are accepted in case a part list
    /// ever reaches a driver.
    static func content(_ value: JSONValue?) -> String {
        switch value {
        case .string(let s)?: return s
        case .array(let parts)?: return parts.compactMap { $0.stringValue ?? $0["text"]?.stringValue }.joined(separator: "\n")
        default: return ""
        }
    }

    /// Arguments re-serialized with sorted keys and no spacing when they parse; else whitespace-collapsed text.
    static func canonicalArguments(_ value: JSONValue?) -> String {
        switch value {
        case .string(let text)?:
            if let parsed = try? JSONParser.parse(text) { return canonicalJSON(parsed) }
            return text.collapsingWhitespace()
        case let other?: return canonicalJSON(other)
        case nil: return ""
        }
    }

    static func canonicalJSON(_ value: JSONValue) -> String {
        switch value {
        case .object(let object):
            let sorted = object.entries.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            return "{" + sorted.map { JSONValue.string($0.key).serialized + ":" + canonicalJSON($0.value) }.joined(separator: ",") + "}"
        case .array(let items):
            return "[" + items.map(canonicalJSON).joined(separator: ",") + "]"
        default:
            return value.serialized
        }
    }
}
