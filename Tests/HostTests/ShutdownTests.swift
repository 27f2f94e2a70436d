import Foundation
import Testing
@testable import Host

/// SIGTERM semantics (the binary maps SIGTERM/SIGINT to this graceful shutdown): streams in
/// flight finish; new work is refused; a stream still running when the grace runs out ends with
/// a visible error chunk, never a silent cut.
@Suite(.serialized) struct ShutdownTests {
    @Test func inFlightStreamFinishesDuringGrace() async throws {
        let host = try TestHost.mock(config: #"{"delta_delay_ms": 20}"#, env: ["MIX2API_KEEPALIVE_MS": "60000"])
        try await host.start(shutdownGrace: .seconds(20))
        let c = try await RawHTTPConnection.open(port: host.port)
        c.send(body: #"{"model":"mock-short","stream":true,"messages":[{"role":"user","content":"hi"}]}"#, headers: ["Connection": "close"])
        _ = await c.read(until: "\"role\":\"assistant\"")
        await host.beginGracefulShutdown()
        let rest = await c.readAll()
        #expect(rest.contains("data: [DONE]"))
        #expect(!rest.contains("shutting_down"))
        #expect(host.server.isDraining)
        #expect(await host.waitForExit(seconds: 10))
    }

    @Test func streamStillRunningWhenGraceEndsGetsAnErrorChunk() async throws {
        // The streams still running are stopped min(1 s, grace / 5) before the grace ends: 2 s
        // leaves 400 ms to write the error chunk, enough on a loaded machine (500 ms left 100).
        let host = try TestHost.mock(config: #"{"stall_ms": 60000}"#, env: ["MIX2API_KEEPALIVE_MS": "60000", "MIX2API_SHUTDOWN_GRACE_MS": "2000"])
        try await host.start(shutdownGrace: .milliseconds(2000))
        let c = try await RawHTTPConnection.open(port: host.port)
        c.send(body: #"{"model":"mock-stall","stream":true,"messages":[{"role":"user","content":"hi"}]}"#, headers: ["Connection": "close", "X-Request-Id": "cut-1"])
        _ = await c.read(until: "\"content\":")
        await host.beginGracefulShutdown()
        let rest = await c.readAll()
        #expect(rest.contains(#""code":"shutting_down""#), "\(rest)")
        #expect(rest.contains("data: [DONE]"))
        try await waitUntil { host.mockDriver.activeStreams == 0 }
        try await waitUntil { host.logs.access(requestID: "cut-1") != nil }
        #expect(host.logs.access(requestID: "cut-1")?["end_reason"] == "unavailable")
        #expect(await host.waitForExit(seconds: 10))
    }
}
