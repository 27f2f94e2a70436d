import CHiredis
import Foundation
import Logging

/// The shared store: Redis through hiredis, with a small pool of blocking connections. Callers
/// are driver threads (the ABI says state calls may block), never the event loop.
///
/// Degrading without failing: when Redis is down, slow or answers with an error, the call is
/// answered by an in-memory fallback (a site session may be lost, a request never is). While
/// degraded, one caller at a time probes Redis, at most once per second; everyone else goes
/// straight to the fallback. Both transitions are logged once.
public final class RedisStateStore: StateStore, @unchecked Sendable {
    public struct Settings: Sendable {
        public var url: RedisURL
        public var prefix: String
        public var connectTimeoutMs: Int
        public var commandTimeoutMs: Int
        public var maxConnections: Int

        public init(url: RedisURL, prefix: String, connectTimeoutMs: Int = 2000, commandTimeoutMs: Int = 1000, maxConnections: Int = 16) {
            self.url = url
            self.prefix = prefix
            self.connectTimeoutMs = connectTimeoutMs
            self.commandTimeoutMs = commandTimeoutMs
            self.maxConnections = maxConnections
        }
    }

    private let settings: Settings
    private let logger: Logger
    private let fallback = MemoryStateStore()
    private let health: RedisHealth
    private let pool: RedisConnectionPool

    public init(_ settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        self.health = RedisHealth(logger: logger)
        self.pool = RedisConnectionPool(settings: settings)
        health.onDown = { [weak self] in self?.probeUntilBack() }
    }

    /// While degraded, a PING every second from a background queue, so the store returns to Redis
    /// (and /ready says so) even when no request touches state.
    private func probeUntilBack() {
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(1)) { [weak self] in
            guard let self, self.degradedReason != nil else { return }
            self.ping()
            if self.degradedReason != nil { self.probeUntilBack() }
        }
    }

    public var degradedReason: String? { health.reason }

    // MARK: StateStore

    public func get(_ key: String) -> Result<String?, StateStoreError> {
        switch command(["GET", k(key)]) {
        case .string(let s)?: return .success(s)
        case .nil?: return .success(nil)
        default: return fallback.get(key)
        }
    }

    public func set(_ key: String, _ value: String, ttlMilliseconds: UInt64) -> Bool {
        if case .status? = command(["SET", k(key), value, "PX", String(max(ttlMilliseconds, 1))]) { return true }
        return fallback.set(key, value, ttlMilliseconds: ttlMilliseconds)
    }

    public func delete(_ key: String) -> Bool {
        if case .integer? = command(["DEL", k(key)]) { return true }
        return fallback.delete(key)
    }

    public func lock(_ key: String, ttlMilliseconds: UInt64) -> Result<String?, StateStoreError> {
        let token = UUID().uuidString
        switch command(["SET", k("lock:" + key), token, "NX", "PX", String(max(ttlMilliseconds, 1))]) {
        case .status?: return .success(token)
        case .nil?: return .success(nil)
        default: return fallback.lock(key, ttlMilliseconds: ttlMilliseconds)
        }
    }

    public func unlock(_ key: String, token: String) -> Bool {
        // Only the holder may release: compare and delete in one step. A lock taken from the
        // fallback is released there (Redis answers 0 for a token it never saw).
        if case .integer(let n)? = command(["EVAL", Self.unlockScript, "1", k("lock:" + key), token]), n == 1 { return true }
        return fallback.unlock(key, token: token)
    }

    /// One round trip, so health (and /ready) is known before the first request.
    public func ping() {
        _ = command(["PING"])
    }

    static let unlockScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"

    private func k(_ key: String) -> String { settings.prefix + ":" + key }

    // MARK: One command, with the fallback decision

    /// nil: Redis could not answer; the caller uses the fallback.
    func command(_ args: [String]) -> RedisReply? {
        guard health.mayTry() else { return nil }
        // A pooled connection may be stale (Redis restarted since it was opened): one failure on
        // it earns one more try on a new connection before Redis counts as down.
        for _ in 0..<2 {
            let lease: RedisConnectionPool.Lease
            switch pool.acquire() {
            case .success(let l): lease = l
            case .failure(let why):
                health.failed(why.description)
                return nil
            }
            switch lease.connection.run(args) {
            case .success(.error(let message)):
                pool.release(lease)
                // Never the arguments (they hold keys and values): only what Redis said.
                health.failed("redis at \(settings.url.host):\(settings.url.port) answered \(args[0]) with an error: \(message.prefix(120))")
                return nil
            case .success(let reply):
                pool.release(lease)
                health.succeeded()
                return reply
            case .failure(let why):
                pool.discard(lease)
                if lease.fresh {
                    health.failed(why.description)
                    return nil
                }
            }
        }
        health.failed("redis at \(settings.url.host):\(settings.url.port): connection lost twice in a row")
        return nil
    }
}
