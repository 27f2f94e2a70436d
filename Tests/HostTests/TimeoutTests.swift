import Foundation
import Testing
@testable import Host

/// The host's own clocks: keep-alives release the headers of a slow first event, a driver that
/// never starts is a 503 timeout, one that goes silent mid-stream ends with an error chunk, and
/// every case cancels the driver.
@Suite(.serialized) struct TimeoutTests {
    static func body(_ model: String, stream: Bool = true) -> String {
        #"{"model":"\#(model)","stream":\#(stream),"messages":[{"role":"user","content":"hi"}]}"#
    }

    @Test func firstEventTimeoutIsAnHTTPError() async throws {
        let host = try TestHost.mock(env: ["UPSTREAM_TIMEOUT_MS": "200", "MIX2API_KEEPALIVE_MS": "60000"])
        try await host.start()
        defer { host.stop() }
        let c = try await RawHTTPConnection.open(port: host.port)
        c.send(body: Self.body("mock-hang"), headers: ["Connection": "close", "X-Request-Id": "t1"])
        let response = await c.readAll()
        #expect(response.hasPrefix("HTTP/1.1 503"), "\(response)")
        #expect(response.contains(#""code":"upstream_timeout""#))
        try await waitUntil { host.mockDriver.activeStreams == 0 }
        try await waitUntil { host.logs.access(requestID: "t1") != nil }
        #expect(host.logs.access(requestID: "t1")?["end_reason"] == "timeout")
    }

    @Test func idleTimeoutMidStreamEndsWithErrorChunk() async throws {
        let host = try TestHost.mock(config: #"{"stall_ms": 60000}"#, env: ["MIX2API_IDLE_TIMEOUT_MS": "200", "MIX2API_KEEPALIVE_MS": "60000"])
        try await host.start()
        defer { host.stop() }
        let c = try await RawHTTPConnection.open(port: host.port)
        c.send(body: Self.body("mock-stall"), headers: ["Connection": "close", "X-Request-Id": "t2"])
        let response = await c.readAll()
        #expect(response.hasPrefix("HTTP/1.1 200"))
        #expect(response.contains(#"data: {"error":{"message":"the upstream went silent for too long","type":"timeout_error","code":"upstream_timeout"}}"#))
        #expect(response.contains("data: [DONE]"))
        #expect(!response.contains(#""finish_reason":"stop""#), "a cut stream never ends as a normal stop")
        try await waitUntil { host.mockDriver.activeStreams == 0 }
        try await waitUntil { host.logs.access(requestID: "t2") != nil }
        #expect(host.logs.access(requestID: "t2")?["end_reason"] == "timeout")
    }

    @Test func keepAliveReleasesHeadersBeforeASlowFirstEvent() async throws {
        let host = try TestHost.mock(config: #"{"slow_first_ms": 700}"#, env: ["MIX2API_KEEPALIVE_MS": "150"])
        try await host.start()
        defer { host.stop() }
        let c = try await RawHTTPConnection.open(port: host.port)
        c.send(body: Self.body("mock-slow-first"), headers: ["Connection": "close"])
        let response = await c.readAll()
        #expect(response.hasPrefix("HTTP/1.1 200"))
        let ping = try #require(response.range(of: ": ping\n\n"))
        let firstContent = try #require(response.range(of: #""content":"Hello"#))
        #expect(ping.lowerBound < firstContent.lowerBound)
        #expect(response.contains("data: [DONE]"))
    }

    @Test func nonStreamTimeoutIsAnHTTPError() async throws {
        let host = try TestHost.mock(config: #"{"stall_ms": 60000}"#, env: ["MIX2API_IDLE_TIMEOUT_MS": "200"])
        try await host.start()
        defer { host.stop() }
        let c = try await RawHTTPConnection.open(port: host.port)
        c.send(body: Self.body("mock-stall", stream: false), headers: ["Connection": "close"])
        let response = await c.readAll()
        #expect(response.hasPrefix("HTTP/1.1 503"), "\(response)")
        try await waitUntil { host.mockDriver.activeStreams == 0 }
    }
}
