import DriverKit
import Foundation

/// The `config` object of this driver in plugins.json. Every field is optional. Wrong types,
/// negative numbers and unknown fields are refused at start-up so an operator's typo
/// (`delta_delay` for `delta_delay_ms`) fails loudly instead of silently using a default.
struct MockConfig: Sendable {
    /// Pause between two deltas (text or reasoning) of one answer.
    var deltaDelayMs = 0
    /// Pause before the first event, in every scenario.
    var firstDelayMs = 0
    /// How long `mock-slow-first` keeps the client waiting for its first delta.
    var slowFirstMs = 3000
    /// The silence of `mock-stall`: longer than the host's 15 s keep-alive by default, so the
    /// keep-alive path is exercised without configuration.
    var stallMs = 20000
    /// Number of deltas of `mock-long`.
    var longDeltas = 2000
    /// Deltas sent by `mock-error-mid` before it fails.
    var errorAfterDeltas = 5
    /// Scripted breakage of every answer (`Faults.swift`); a string, unlike the fields below.
    var faults = MockFaults.none

    private static var fields: [(name: String, path: WritableKeyPath<MockConfig, Int>)] {
        [
            ("delta_delay_ms", \.deltaDelayMs),
            ("first_delay_ms", \.firstDelayMs),
            ("slow_first_ms", \.slowFirstMs),
            ("stall_ms", \.stallMs),
            ("long_deltas", \.longDeltas),
            ("error_after_deltas", \.errorAfterDeltas),
        ]
    }

    init() {}

    init(json: [String: Any]) throws {
        let unknown = json.keys.filter { key in key != "faults" && !Self.fields.contains { $0.name == key } }.sorted()
        if !unknown.isEmpty {
            let known = (Self.fields.map(\.name) + ["faults"]).joined(separator: ", ")
            throw DriverConfigError(field: unknown.joined(separator: ", "), "unknown field (known fields: \(known))")
        }
        if let value = json["faults"] { faults = try MockFaults.parse(value) }
        for field in Self.fields {
            guard let value = json[field.name] else { continue }
            self[keyPath: field.path] = try Self.nonNegativeInteger(value, field: field.name)
        }
    }

    private static func nonNegativeInteger(_ value: Any, field: String) throws -> Int {
        // JSON booleans arrive as NSNumber too, and `true as? Int` would succeed: tell them
        // apart by their ObjC type code, "c", which JSON numbers never get.
        let isBool = (value as? NSNumber).map { String(cString: $0.objCType) == "c" } ?? false
        guard !isBool, let number = value as? Int, number >= 0 else {
            throw DriverConfigError(field: field, "must be a non-negative integer")
        }
        return number
    }
}
