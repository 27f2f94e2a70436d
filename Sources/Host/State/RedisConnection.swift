import CHiredis
import Foundation
import NIOConcurrencyHelpers

/// What a Redis command answered, reduced to what the store needs.
enum RedisReply: Equatable {
    case string(String), `nil`, integer(Int64), status(String), error(String), array
}

struct RedisFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// One blocking hiredis connection (connect and command timeouts set). Not thread-safe: the pool
/// hands it to one caller at a time.
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>
    /// host:port, so every failure names the Redis it is about (never the password).
    private let target: String

    static func open(_ s: RedisStateStore.Settings) -> Result<RedisConnection, RedisFailure> {
        let target = "\(s.url.host):\(s.url.port)"
        guard let c = redisConnectWithTimeout(s.url.host, Int32(s.url.port), timeval(milliseconds: s.connectTimeoutMs)) else {
            return .failure(RedisFailure("cannot allocate a redis connection"))
        }
        if c.pointee.err != 0 {
            let why = errorText(c)
            redisFree(c)
            return .failure(RedisFailure("cannot connect to redis at \(target): \(why)"))
        }
        redisSetTimeout(c, timeval(milliseconds: s.commandTimeoutMs))
        let connection = RedisConnection(c, target: target)
        if let password = s.url.password {
            switch connection.run(["AUTH", password]) {
            case .success(.status): break
            // Never the password itself: only which step failed.
            case .success: return .failure(RedisFailure("redis at \(target) refused the password (AUTH)"))
            case .failure(let f): return .failure(f)
            }
        }
        if s.url.database != 0 {
            switch connection.run(["SELECT", String(s.url.database)]) {
            case .success(.status): break
            case .success: return .failure(RedisFailure("redis at \(target) refused SELECT \(s.url.database)"))
            case .failure(let f): return .failure(f)
            }
        }
        return .success(connection)
    }

    private init(_ context: UnsafeMutablePointer<redisContext>, target: String) {
        self.context = context
        self.target = target
    }

    deinit { redisFree(context) }

    /// The reply, or a failure when the connection broke or timed out (it is unusable then).
    func run(_ args: [String]) -> Result<RedisReply, RedisFailure> {
        var lengths = args.map { $0.utf8.count }
        let copies = args.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
        guard let raw = redisCommandArgv(context, Int32(args.count), &pointers, &lengths) else {
            let why = context.pointee.err == 0 ? "no reply" : Self.errorText(context)
            return .failure(RedisFailure("redis \(args[0]) at \(target) failed: \(why)"))
        }
        defer { freeReplyObject(raw) }
        let r = raw.assumingMemoryBound(to: redisReply.self).pointee
        let text = r.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: r.len), as: UTF8.self) } ?? ""
        switch r.type {
        case REDIS_REPLY_STRING: return .success(.string(text))
        case REDIS_REPLY_NIL: return .success(.nil)
        case REDIS_REPLY_INTEGER: return .success(.integer(r.integer))
        case REDIS_REPLY_STATUS: return .success(.status(text))
        case REDIS_REPLY_ARRAY: return .success(.array)
        default: return .success(.error(text))
        }
    }

    private static func errorText(_ c: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: c.pointee.errstr) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
    }
}

extension timeval {
    init(milliseconds ms: Int) {
        self.init(tv_sec: ms / 1000, tv_usec: (ms % 1000) * 1000)
    }
}

/// At most `maxConnections` open connections; callers beyond that wait for one to come back.
final class RedisConnectionPool: @unchecked Sendable {
    struct Lease {
        let connection: RedisConnection
        /// Opened for this lease (a failure on it means Redis itself is unreachable).
        let fresh: Bool
    }

    private let settings: RedisStateStore.Settings
    private let condition = NSCondition()
    private var idle: [RedisConnection] = []
    private var open = 0

    init(settings: RedisStateStore.Settings) {
        self.settings = settings
    }

    func acquire() -> Result<Lease, RedisFailure> {
        condition.lock()
        while idle.isEmpty, open >= settings.maxConnections { condition.wait() }
        if let c = idle.popLast() {
            condition.unlock()
            return .success(Lease(connection: c, fresh: false))
        }
        open += 1
        condition.unlock()
        switch RedisConnection.open(settings) {
        case .success(let c): return .success(Lease(connection: c, fresh: true))
        case .failure(let f):
            discardSlot()
            return .failure(f)
        }
    }

    func release(_ lease: Lease) {
        condition.lock()
        idle.append(lease.connection)
        condition.signal()
        condition.unlock()
    }

    /// Drops a broken connection, and every idle one with it: when one went stale (Redis
    /// restarted), the others did too.
    func discard(_ lease: Lease) {
        condition.lock()
        open -= 1 + idle.count
        idle.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    private func discardSlot() {
        condition.lock()
        open -= 1
        condition.signal()
        condition.unlock()
    }
}
