import Digest
import Foundation

/// The parts of the canonical request (Sources/PluginABI/README.md) the scenarios look at.
/// Parsing is lenient past "it is a JSON object": a field of the wrong type reads as absent,
/// because the mock must keep answering while the host's request builder evolves.
struct MockRequest {
    struct Message {
        var role: String
        var content: String
    }

    struct Tool {
        var name: String
        /// The JSON schema of the arguments (`parameters`), or empty.
        var parameters: [String: Any]
    }

    struct NotAnObject: Error, CustomStringConvertible {
        var description: String { "request is not a JSON object" }
    }

    let raw: Data
    let object: [String: Any]
    let model: String
    let requestID: String
    let messages: [Message]
    let tools: [Tool]
    let toolChoice: [String: Any]?
    let sessionScope: String?

    init(_ raw: Data) throws {
        guard let object = (try? JSONSerialization.jsonObject(with: raw)) as? [String: Any] else { throw NotAnObject() }
        self.raw = raw
        self.object = object
        model = object["model"] as? String ?? ""
        requestID = object["request_id"] as? String ?? ""
        messages = (object["messages"] as? [[String: Any]] ?? []).map {
            Message(role: $0["role"] as? String ?? "", content: $0["content"] as? String ?? "")
        }
        tools = (object["tools"] as? [[String: Any]] ?? []).compactMap { tool in
            guard let name = tool["name"] as? String else { return nil }
            return Tool(name: name, parameters: tool["parameters"] as? [String: Any] ?? [:])
        }
        toolChoice = object["tool_choice"] as? [String: Any]
        sessionScope = (object["session"] as? [String: Any])?["scope"] as? String
    }

    /// The model name without its `provider/` routing prefix (`mix/mock-long` → `mock-long`).
    var bareModel: Substring {
        model.lastIndex(of: "/").map { model[model.index(after: $0)...] } ?? model[...]
    }

    var lastUserContent: String? { messages.last { $0.role == "user" }?.content }

    /// Deterministic per conversation scope, so tests can predict it and sessions of different
    /// scopes never collide.
    var sessionID: String { "mock-session-" + SHA256.hex(Array((sessionScope ?? "none").utf8)).prefix(8) }
}
