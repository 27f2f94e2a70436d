import CHiredis
import Foundation
import Logging

/// The shared store: Redis through hiredis, a small pool of blocking connections (callers are
/// driver threads, never the event loop). When Redis is down or slow, every call is answered by
/// an in-memory fallback — a site session may be lost, a request never is — and Redis is tried
/// again at most once per second; both transitions are logged once.
public final class RedisStateStore: StateStore, @unchecked Sendable {
    private let url: RedisURL
    private let prefix: String
    private let timeout: timeval
    private let maxConnections: Int
    private let logger: Logger
    private let fallback = MemoryStateStore()

    private let lock = NSCondition()
    private var idle: [UnsafeMutablePointer<redisContext>] = []
    private var open = 0
    private var unhealthySince: Date?
    private var reason: String?
    private var nextProbe = Date.distantPast

    public init(url: RedisURL, prefix: String, timeoutMs: Int, maxConnections: Int = 8, logger: Logger) {
        self.url = url
        self.prefix = prefix
        self.timeout = timeval(tv_sec: timeoutMs / 1000, tv_usec: (timeoutMs % 1000) * 1000)
        self.maxConnections = maxConnections
        self.logger = logger
    }

    deinit {
        for c in idle { redisFree(c) }
    }

    public var degradedReason: String? { lock.withLock { reason } }

    // MARK: StateStore

    public func get(_ key: String) -> Result<String?, StateStoreError> {
        switch command(["GET", k(key)]) {
        case .string(let s)?: return .success(s)
        case .nil?: return .success(nil)
        case nil: return fallback.get(key)
        default: return .success(nil)
        }
    }

    public func set(_ key: String, _ value: String, ttlMilliseconds: UInt64) -> Bool {
        switch command(["SET", k(key), value, "PX", String(ttlMilliseconds)]) {
        case nil: return fallback.set(key, value, ttlMilliseconds: ttlMilliseconds)
        default: return true
        }
    }

    public func delete(_ key: String) -> Bool {
        if command(["DEL", k(key)]) == nil { return fallback.delete(key) }
        return true
    }

    public func lock(_ key: String, ttlMilliseconds: UInt64) -> Result<String?, StateStoreError> {
        let token = UUID().uuidString
        switch command(["SET", k("lock:" + key), token, "NX", "PX", String(ttlMilliseconds)]) {
        case .status?: return .success(token)
        case .nil?: return .success(nil)
        case nil: return fallback.lock(key, ttlMilliseconds: ttlMilliseconds)
        default: return .success(nil)
        }
    }

    public func unlock(_ key: String, token: String) -> Bool {
        // Only the holder may release: compare and delete in one step.
        let script = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
        if command(["EVAL", script, "1", k("lock:" + key), token]) == nil { return fallback.unlock(key, token: token) }
        return true
    }

    private func k(_ key: String) -> String { prefix + ":" + key }

    // MARK: Commands

    enum Reply: Equatable {
        case string(String), `nil`, integer(Int64), status(String), error(String), array
    }

    /// nil: Redis could not answer (the caller uses the fallback).
    func command(_ args: [String]) -> Reply? {
        guard let context = acquire() else { return nil }
        var lengths = args.map { $0.utf8.count }
        let copies = args.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
        let raw = redisCommandArgv(context, Int32(args.count), &pointers, &lengths)
        guard let raw else {
            let why = context.pointee.errstr.0 == 0 ? "no reply" : withUnsafeBytes(of: context.pointee.errstr) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            redisFree(context)
            release(nil, failure: "redis command failed: \(why)")
            return nil
        }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        release(context, failure: nil)
        let r = reply.pointee
        let text = r.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: r.len), as: UTF8.self) } ?? ""
        switch r.type {
        case REDIS_REPLY_STRING: return .string(text)
        case REDIS_REPLY_NIL: return .nil
        case REDIS_REPLY_INTEGER: return .integer(r.integer)
        case REDIS_REPLY_STATUS: return .status(text)
        case REDIS_REPLY_ARRAY: return .array
        default:
            logger.warning("redis answered an error", metadata: ["error": .string(text)])
            return .error(text)
        }
    }

    private func acquire() -> UnsafeMutablePointer<redisContext>? {
        lock.lock()
        while true {
            if unhealthySince != nil, Date() < nextProbe {
                lock.unlock()
                return nil
            }
            if let c = idle.popLast() {
                lock.unlock()
                return c
            }
            if open < maxConnections { break }
            lock.wait()
        }
        open += 1
        lock.unlock()
        switch connect() {
        case .success(let c): return c
        case .failure(let why):
            release(nil, failure: why.description)
            return nil
        }
    }

    /// Returns a healthy connection to the pool, or records a failure (context already freed).
    private func release(_ context: UnsafeMutablePointer<redisContext>?, failure: String?) {
        lock.lock()
        if let context {
            idle.append(context)
            if unhealthySince != nil {
                logger.notice("redis is back: shared state restored", metadata: ["was_down_s": .stringConvertible(Int(Date().timeIntervalSince(unhealthySince!)))])
                unhealthySince = nil
                reason = nil
            }
        } else {
            open -= 1
            if unhealthySince == nil, let failure {
                unhealthySince = Date()
                reason = failure
                logger.error("redis unreachable: falling back to in-memory state", metadata: ["reason": .string(failure)])
            }
            nextProbe = Date().addingTimeInterval(1)
        }
        lock.signal()
        lock.unlock()
    }

    private func connect() -> Result<UnsafeMutablePointer<redisContext>, RedisFailure> {
        guard let c = redisConnectWithTimeout(url.host, Int32(url.port), timeout) else { return .failure(RedisFailure("cannot allocate a connection")) }
        if c.pointee.err != 0 {
            let why = withUnsafeBytes(of: c.pointee.errstr) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            redisFree(c)
            return .failure(RedisFailure("cannot connect to \(url.host):\(url.port): \(why)"))
        }
        redisSetTimeout(c, timeout)
        var setup: [[String]] = []
        if let password = url.password { setup.append(["AUTH", password]) }
        if url.database != 0 { setup.append(["SELECT", String(url.database)]) }
        for args in setup {
            var lengths = args.map { $0.utf8.count }
            let copies = args.map { strdup($0) }
            defer { copies.forEach { free($0) } }
            var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
            guard let raw = redisCommandArgv(c, Int32(args.count), &pointers, &lengths) else {
                redisFree(c)
                return .failure(RedisFailure("connection lost during \(args[0])"))
            }
            let type = raw.assumingMemoryBound(to: redisReply.self).pointee.type
            freeReplyObject(raw)
            if type == REDIS_REPLY_ERROR {
                redisFree(c)
                // Never the password itself: only which step failed.
                return .failure(RedisFailure("redis refused \(args[0] == "AUTH" ? "the password (AUTH)" : "SELECT \(url.database)")"))
            }
        }
        return .success(c)
    }

    struct RedisFailure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }
}

