import Foundation
import Testing
@testable import Host

/// The same driver events as the OpenAI goldens (GoldenTranscriptTests), encoded for Anthropic
/// Messages, stream and non-stream. The files under Fixtures/golden are the contract; regenerate
/// deliberately with UPDATE_GOLDENS=1.
@Suite struct AnthropicGoldenTests {
    static let prompt = 42  // fixed, so goldens do not depend on the estimator

    static func encode(_ events: [DriverEvent], model: String) -> (sse: [UInt8], json: [UInt8]) {
        var encoder = AnthropicStreamEncoder(id: "msg_golden", model: model, inputTokens: prompt)
        var collector = AnthropicResponseEncoder()
        var sse: [UInt8] = []
        var json: [UInt8] = []
        var usage: Int?
        for event in events {
            switch event {
            case .usage(_, let c):
                usage = c
            case .finish(let reason):
                encoder.finish(reason, promptTokens: prompt, completionTokens: usage, into: &sse)
                json = collector.body(id: "msg_golden", model: model, finish: reason, promptTokens: prompt, completionTokens: usage)
            case .error(let failure):
                let error = ClientError(failure)
                encoder.fail(error, into: &sse)
                json = Array("HTTP \(error.status)\n".utf8) + error.anthropicBody
            default:
                encoder.encode(event, into: &sse)
                collector.add(event)
            }
        }
        return (sse, json)
    }

    @Test(arguments: GoldenTranscriptTests.scenarios)
    func scenarioMatchesGolden(_ scenario: String) async throws {
        let driver = try DriverHarness.load(BuildProducts.mockDriver, config: GoldenTranscriptTests.config)
        let events = try await DriverHarness.run(driver, request: DriverHarness.request(model: scenario, tools: scenario.hasPrefix("mock-tool")))
        let (sse, json) = Self.encode(events, model: scenario)
        try Golden.check(sse, name: "\(scenario).anthropic.sse")
        try Golden.check(json, name: "\(scenario).anthropic.json")
    }

    /// Native tool calls (ToolCallEncodingTests.events): text, then two tool_use blocks at
    /// indices 1 and 2, each opened with `input: {}` and filled by one input_json_delta.
    @Test func nativeToolCalls() throws {
        let (sse, json) = Self.encode(ToolCallEncodingTests.events, model: "native")
        try Golden.check(sse, name: "native-tool-calls.anthropic.sse")
        try Golden.check(json, name: "native-tool-calls.anthropic.json")
        let text = String(decoding: sse, as: UTF8.self)
        #expect(text.contains(#""stop_reason":"tool_use""#))
        #expect(!text.contains(#""index":3"#))
    }

    @Test func toolUseStopReasonOnlyWithToolBlocks() {
        let (sse, json) = Self.encode([.text("done"), .finish(.toolCalls)], model: "m")
        #expect(String(decoding: sse, as: UTF8.self).contains(#""stop_reason":"end_turn""#))
        #expect(String(decoding: json, as: UTF8.self).contains(#""stop_reason":"end_turn""#))
    }

    @Test func brokenNativeArgumentsBecomeAnEmptyObject() {
        let events: [DriverEvent] = [.toolCallStart(index: 0, id: "toolu_x", name: "t"), .toolCallArguments(index: 0, fragment: "[1,"), .toolCallEnd(index: 0), .finish(.toolCalls)]
        let (sse, json) = Self.encode(events, model: "m")
        #expect(String(decoding: sse, as: UTF8.self).contains(#""partial_json":"{}""#))
        #expect(String(decoding: json, as: UTF8.self).contains(#""input":{}"#))
    }

    /// A keep-alive before the first event opens the message first, as Anthropic's stream does;
    /// an answer that never gets a content block still closes properly.
    @Test func keepAliveBeforeAnyEventOpensTheMessage() {
        var encoder = AnthropicStreamEncoder(id: "msg_golden", model: "m", inputTokens: 7)
        var out: [UInt8] = []
        encoder.keepAlive(into: &out)
        encoder.keepAlive(into: &out)
        #expect(!encoder.hasStarted, "no content block yet: a corrective retry is still invisible")
        encoder.encode(.text("x"), into: &out)
        #expect(encoder.hasStarted, "an open block has reached the client")
        out.removeAll()
        encoder = AnthropicStreamEncoder(id: "msg_golden", model: "m", inputTokens: 7)
        encoder.keepAlive(into: &out)
        encoder.keepAlive(into: &out)
        encoder.finish(.stop, promptTokens: 7, completionTokens: nil, into: &out)
        let events = String(decoding: out, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("event: ") }
        #expect(events == ["event: message_start", "event: ping", "event: ping", "event: message_delta", "event: message_stop"])
    }
}
