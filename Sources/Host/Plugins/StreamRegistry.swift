import NIOConcurrencyHelpers

/// Live driver streams by id. Ids are never reused, so an emit for an id that is gone is known to
/// be late (closed) rather than invented (unknown) — and never touches freed memory.
final class StreamRegistry: @unchecked Sendable {
    private let lock = NIOLock()
    private var sinks: [UInt64: EventSink] = [:]
    private var lastID: UInt64 = 0

    func register(_ sink: EventSink) -> UInt64 {
        lock.withLock {
            lastID += 1
            sinks[lastID] = sink
            return lastID
        }
    }

    func sink(_ id: UInt64) -> EventSink? { lock.withLock { sinks[id] } }

    func wasIssued(_ id: UInt64) -> Bool { lock.withLock { id != 0 && id <= lastID } }

    func remove(_ id: UInt64) { lock.withLock { _ = sinks.removeValue(forKey: id) } }

    var count: Int { lock.withLock { sinks.count } }
}
