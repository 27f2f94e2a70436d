import Foundation
import NIOConcurrencyHelpers

/// The in-process store: the default, and the fallback when a shared store is unreachable.
/// Expired entries are dropped on read and swept every few thousand writes, so it cannot grow
/// without bound on keys nobody reads again.
public final class MemoryStateStore: StateStore, @unchecked Sendable {
    private struct Entry {
        var value: String
        var expiresAt: UInt64  // monotonic ns
    }

    private let lock = NIOLock()
    private var entries: [String: Entry] = [:]
    private var writesSinceSweep = 0
    private let now: @Sendable () -> UInt64

    public init(clock: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }) {
        self.now = clock
    }

    public var degradedReason: String? { nil }
    public var neverBlocks: Bool { true }

    public var count: Int { lock.withLock { entries.count } }

    public func get(_ key: String) -> Result<String?, StateStoreError> {
        let t = now()
        return .success(lock.withLock {
            guard let e = entries[key] else { return nil }
            if e.expiresAt <= t {
                entries.removeValue(forKey: key)
                return nil
            }
            return e.value
        })
    }

    public func set(_ key: String, _ value: String, ttlMilliseconds: UInt64) -> Bool {
        let expiry = now() &+ ttlMilliseconds &* 1_000_000
        lock.withLock {
            entries[key] = Entry(value: value, expiresAt: expiry)
            sweepIfDue()
        }
        return true
    }

    public func delete(_ key: String) -> Bool {
        _ = lock.withLock { entries.removeValue(forKey: key) }
        return true
    }

    public func lock(_ key: String, ttlMilliseconds: UInt64) -> Result<String?, StateStoreError> {
        let t = now()
        let lockKey = "lock:" + key
        return .success(lock.withLock {
            if let e = entries[lockKey], e.expiresAt > t { return nil }
            let token = UUID().uuidString
            entries[lockKey] = Entry(value: token, expiresAt: t &+ ttlMilliseconds &* 1_000_000)
            sweepIfDue()
            return token
        })
    }

    public func unlock(_ key: String, token: String) -> Bool {
        let lockKey = "lock:" + key
        lock.withLock {
            if entries[lockKey]?.value == token { entries.removeValue(forKey: lockKey) }
        }
        return true
    }

    /// Called with the lock held.
    private func sweepIfDue() {
        writesSinceSweep += 1
        guard writesSinceSweep >= 4096 else { return }
        writesSinceSweep = 0
        let t = now()
        entries = entries.filter { $0.value.expiresAt > t }
    }
}
