import Foundation
import NIOConcurrencyHelpers
import Testing
@testable import Host

/// One behavioural suite for every StateStore backend: what a driver may rely on through the ABI.
@Suite(.serialized) struct StateStoreBehaviourTests {
    enum Backend: String, CaseIterable, Sendable { case memory, redis }

    static func make(_ backend: Backend) throws -> (any StateStore, RedisServer?) {
        switch backend {
        case .memory: return (MemoryStateStore(), nil)
        case .redis:
            let server = try RedisServer()
            let url = try RedisURL("redis://127.0.0.1:\(server.port)/3")
            return (RedisStateStore(.init(url: url, prefix: "test:\(UUID().uuidString)", connectTimeoutMs: 500, commandTimeoutMs: 500), logger: LogCapture().logger), server)
        }
    }

    // Every test body runs off the cooperative pool (`offPool`): hiredis calls, redis-server
    // start-up and the sleeps here block their thread.

    @Test(arguments: Backend.allCases)
    func getSetDeleteAndExpiry(_ backend: Backend) async throws {
        try await offPool {
            let (store, server) = try Self.make(backend)
            defer { server?.stop() }
            #expect(try store.get("missing").get() == nil)
            let value = #"{"schemaVersion":1,"text":"Grüße\n世界 \"q\""}"#
            #expect(store.set("k", value, ttlMilliseconds: 60_000))
            #expect(try store.get("k").get() == value)
            #expect(store.set("k", "v2", ttlMilliseconds: 60_000))
            #expect(try store.get("k").get() == "v2")
            #expect(store.delete("k"))
            #expect(try store.get("k").get() == nil)
            #expect(store.delete("never-there"))
            #expect(store.set("short", "x", ttlMilliseconds: 60))
            usleep(150_000)
            #expect(try store.get("short").get() == nil, "entries expire")
            #expect(store.degradedReason == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func locksAreExclusiveExpireAndOnlyTheHolderReleases(_ backend: Backend) async throws {
        try await offPool {
            let (store, server) = try Self.make(backend)
            defer { server?.stop() }
            let token = try #require(try store.lock("login", ttlMilliseconds: 60_000).get())
            #expect(try store.lock("login", ttlMilliseconds: 60_000).get() == nil, "held by another")
            #expect(store.unlock("login", token: "not-the-holder"))
            #expect(try store.lock("login", ttlMilliseconds: 60_000).get() == nil, "a wrong token releases nothing")
            #expect(store.unlock("login", token: token))
            let again = try #require(try store.lock("login", ttlMilliseconds: 80).get())
            #expect(!again.isEmpty)
            usleep(200_000)
            #expect(try store.lock("login", ttlMilliseconds: 60_000).get() != nil, "an expired lock is free")
        }
    }

    @Test func redisDownMeansFallbackNotFailureAndRecoveryIsAutomatic() async throws {
        try await offPool {
            let server = try RedisServer()
            let logs = LogCapture()
            let url = try RedisURL("redis://127.0.0.1:\(server.port)")
            let store = RedisStateStore(.init(url: url, prefix: "t", connectTimeoutMs: 300, commandTimeoutMs: 300), logger: logs.logger)
            let other = RedisStateStore(.init(url: url, prefix: "t"), logger: LogCapture().logger)
            #expect(store.set("a", "1", ttlMilliseconds: 60_000))
            #expect(try other.get("a").get() == "1", "a second instance sees the first one's entries")
            server.stop()
            // Requests keep working on the in-memory fallback; the store says why it is degraded.
            #expect(store.set("b", "2", ttlMilliseconds: 60_000))
            #expect(try store.get("b").get() == "2")
            let token = try #require(try store.lock("login", ttlMilliseconds: 60_000).get())
            #expect(store.unlock("login", token: token))
            #expect(store.degradedReason?.contains("127.0.0.1:\(server.port)") == true, "\(store.degradedReason ?? "nil")")
            for i in 0..<50 { _ = store.set("c\(i)", "x", ttlMilliseconds: 60_000) }
            #expect(logs.all.filter { $0.message.contains("falling back") }.count == 1, "one log line per transition, not per call")
            try server.start()
            // No call needed: the background probe finds Redis again.
            #expect(pollUntil { store.degradedReason == nil })
            #expect(store.set("after", "3", ttlMilliseconds: 60_000))
            #expect(try other.get("after").get() == "3", "back on Redis: shared with the other instance again")
            #expect(logs.all.filter { $0.message.contains("redis is back") }.count == 1)
        }
    }

    @Test func aFrozenRedisIsSlowNotFatal() async throws {
        try await offPool {
            let server = try RedisServer()
            let store = RedisStateStore(.init(url: try RedisURL("redis://127.0.0.1:\(server.port)"), prefix: "t", connectTimeoutMs: 200, commandTimeoutMs: 200), logger: LogCapture().logger)
            #expect(store.set("a", "1", ttlMilliseconds: 60_000))
            server.freeze()
            #expect(store.set("b", "2", ttlMilliseconds: 60_000), "a command timeout falls back")
            #expect(try store.get("b").get() == "2")
            #expect(store.degradedReason != nil)
            server.thaw()
            #expect(pollUntil { store.degradedReason == nil })
            #expect(try store.get("a").get() == "1")
        }
    }

    @Test func aWrongPasswordDegradesWithoutSayingThePassword() async throws {
        try await offPool {
            let server = try RedisServer(extraArguments: ["--requirepass", "right-one"])
            let wrong = RedisStateStore(.init(url: try RedisURL("redis://:hunter2-wrong@127.0.0.1:\(server.port)/0"), prefix: "t"), logger: LogCapture().logger)
            #expect(wrong.set("k", "v", ttlMilliseconds: 1000), "answered by the fallback")
            let reason = try #require(wrong.degradedReason)
            #expect(reason.contains("AUTH") && !reason.contains("hunter2"))
            let right = RedisStateStore(.init(url: try RedisURL("redis://:right-one@127.0.0.1:\(server.port)/2"), prefix: "t"), logger: LogCapture().logger)
            #expect(right.set("k", "v", ttlMilliseconds: 60_000))
            #expect(try right.get("k").get() == "v")
            #expect(right.degradedReason == nil)
        }
    }

    @Test func manyThreadsShareABoundedPool() async throws {
        try await offPool {
            let server = try RedisServer()
            let store = RedisStateStore(.init(url: try RedisURL("redis://127.0.0.1:\(server.port)"), prefix: "t", maxConnections: 3), logger: LogCapture().logger)
            let bad = NIOLockedValueBox(0)
            DispatchQueue.concurrentPerform(iterations: 64) { i in
                for j in 0..<20 {
                    let key = "k\(i)-\(j)"
                    if !store.set(key, "\(i * j)", ttlMilliseconds: 60_000) || (try? store.get(key).get()) != "\(i * j)" {
                        bad.withLockedValue { $0 += 1 }
                    }
                }
            }
            #expect(bad.withLockedValue { $0 } == 0)
            #expect(store.degradedReason == nil)
            #expect(try server.connectedClients() <= 3)
        }
    }

    @Test func redisURLs() throws {
        let u = try RedisURL("redis://:s3cret@cache.internal:6380/2")
        #expect(u == RedisURL.make(host: "cache.internal", port: 6380, password: "s3cret", database: 2))
        #expect(try RedisURL("redis://localhost").port == 6379)
        for bad in ["rediss://x:6379", "http://x", "redis://x/abc", "not a url"] {
            #expect(throws: RedisURL.Invalid.self) { try RedisURL(bad) }
        }
        do { _ = try RedisURL("rediss://h") } catch { #expect(error.description.contains("TLS")) }
        do { _ = try RedisURL("redis://:pw@h/zz") } catch { #expect(!error.description.contains("pw")) }
    }
}

extension RedisURL {
    static func make(host: String, port: Int, password: String?, database: Int) -> RedisURL {
        var u = try! RedisURL("redis://\(host):\(port)/\(database)")
        u.password = password
        return u
    }
}
