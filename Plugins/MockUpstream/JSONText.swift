import Foundation

/// Hand-assembled JSON for the texts the mock writes. JSONSerialization cannot keep key order,
/// and golden tests want the digest and tool arguments in a fixed, documented order.
enum JSONText {
    /// One JSON value, with object keys sorted; nil and unencodable values become `null`.
    static func encode(_ value: Any?) -> String {
        guard let value, !(value is NSNull),
              let data = try? JSONSerialization.data(
                  withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
        else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    /// An object whose keys appear in the order given; values are already JSON text.
    static func object(_ members: [(key: String, json: String)]) -> String {
        "{" + members.map { encode($0.key) + ":" + $0.json }.joined(separator: ",") + "}"
    }
}
