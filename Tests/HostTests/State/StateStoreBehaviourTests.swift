import Foundation
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
            return (RedisStateStore(url: url, prefix: "test:\(UUID().uuidString)", timeoutMs: 500, logger: LogCapture().logger), server)
        }
    }

    @Test(arguments: Backend.allCases)
    func getSetDeleteAndExpiry(_ backend: Backend) async throws {
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
        try await Task.sleep(for: .milliseconds(150))
        #expect(try store.get("short").get() == nil, "entries expire")
        #expect(store.degradedReason == nil)
    }

    @Test(arguments: Backend.allCases)
    func locksAreExclusiveExpireAndOnlyTheHolderReleases(_ backend: Backend) async throws {
        let (store, server) = try Self.make(backend)
        defer { server?.stop() }
        let token = try #require(try store.lock("login", ttlMilliseconds: 60_000).get())
        #expect(try store.lock("login", ttlMilliseconds: 60_000).get() == nil, "held by another")
        #expect(store.unlock("login", token: "not-the-holder"))
        #expect(try store.lock("login", ttlMilliseconds: 60_000).get() == nil, "a wrong token releases nothing")
        #expect(store.unlock("login", token: token))
        let again = try #require(try store.lock("login", ttlMilliseconds: 80).get())
        #expect(!again.isEmpty)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try store.lock("login", ttlMilliseconds: 60_000).get() != nil, "an expired lock is free")
    }

    @Test func redisDownMeansFallbackNotFailureAndRecoveryIsAutomatic() async throws {
        let server = try RedisServer()
        let logs = LogCapture()
        let store = RedisStateStore(url: try RedisURL("redis://127.0.0.1:\(server.port)"), prefix: "t", timeoutMs: 300, logger: logs.logger)
        #expect(store.set("a", "1", ttlMilliseconds: 60_000))
        server.stop()
        // Requests keep working on the in-memory fallback; the store says why it is degraded.
        #expect(store.set("b", "2", ttlMilliseconds: 60_000))
        #expect(try store.get("b").get() == "2")
        #expect(store.degradedReason != nil)
        for i in 0..<50 { _ = store.set("c\(i)", "x", ttlMilliseconds: 60_000) }
        #expect(logs.all.filter { $0.message.contains("falling back") }.count == 1, "one log line per transition, not per call")
        try server.start()
        try await waitUntil(seconds: 5) {
            _ = store.get("probe")
            return store.degradedReason == nil
        }
        #expect(try store.get("a").get() == "1", "back on Redis: what was stored there is there again")
        #expect(logs.all.filter { $0.message.contains("redis is back") }.count == 1)
        server.stop()
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
