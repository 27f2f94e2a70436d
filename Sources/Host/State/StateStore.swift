/// The key/value store offered to drivers (site tokens, session mappings). Calls are synchronous
/// because drivers call them from their own threads; a networked backend bounds them by timeouts.
public protocol StateStore: Sendable {
    /// nil when missing or expired; failure when the backend could not answer.
    func get(_ key: String) -> Result<String?, StateStoreError>
    func set(_ key: String, _ value: String, ttlMilliseconds: UInt64) -> Bool
    func delete(_ key: String) -> Bool
    /// The holder token, nil when another holder has it.
    func lock(_ key: String, ttlMilliseconds: UInt64) -> Result<String?, StateStoreError>
    /// Releases only when `token` matches the holder.
    func unlock(_ key: String, token: String) -> Bool
    /// Why the store is not at full strength (nil when healthy): `/health` reports it.
    var degradedReason: String? { get }
    /// Every call answers from this process's memory, without I/O (drivers are told so and may
    /// then call the store from `start`).
    var neverBlocks: Bool { get }
}

extension StateStore {
    public var neverBlocks: Bool { false }
}

public struct StateStoreError: Error, Sendable {
    public let message: String
}
