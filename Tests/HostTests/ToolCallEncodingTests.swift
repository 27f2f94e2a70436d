import Foundation
import Testing
@testable import Host

/// Native tool-call events → OpenAI bytes, pinned by goldens: header delta (index, id, type,
/// name, empty arguments) then the complete arguments; `tool_calls` finish exactly when calls
/// were sent; the legacy `function_call` shape when the client asked with `functions`.
@Suite struct ToolCallEncodingTests {
    static let events: [DriverEvent] = [
        .text("Let me look."),
        .toolCallStart(index: 0, id: "call_AAAAAAAAAAAAAAAAAAAAAAAA", name: "Read"),
        .toolCallArguments(index: 0, fragment: #"{"file_"#),
        .toolCallArguments(index: 0, fragment: #"path":"a \"q\".txt"}"#),
        .toolCallEnd(index: 0),
        .toolCallStart(index: 1, id: "call_BBBBBBBBBBBBBBBBBBBBBBBB", name: "mcp__github__create_issue"),
        .toolCallArguments(index: 1, fragment: #"{"title":"Grüße 世界"}"#),
        .toolCallEnd(index: 1),
        .finish(.stop),
    ]

    static func encode(_ events: [DriverEvent], legacy: Bool) -> (sse: [UInt8], json: [UInt8]) {
        var encoder = OpenAIStreamEncoder(id: "chatcmpl-golden", created: 1_700_000_000, model: "native", legacyFunctions: legacy)
        var collector = OpenAIResponseEncoder()
        var sse: [UInt8] = []
        var json: [UInt8] = []
        for event in events {
            if case .finish(let reason) = event {
                encoder.finish(reason, promptTokens: 42, completionTokens: nil, into: &sse)
                json = collector.body(id: "chatcmpl-golden", created: 1_700_000_000, model: "native", finish: reason, promptTokens: 42, completionTokens: nil, legacyFunctions: legacy)
            } else {
                encoder.encode(event, into: &sse)
                collector.add(event)
            }
        }
        return (sse, json)
    }

    @Test func nativeToolCalls() throws {
        let (sse, json) = Self.encode(Self.events, legacy: false)
        try Golden.check(sse, name: "native-tool-calls.openai.sse")
        try Golden.check(json, name: "native-tool-calls.openai.json")
        let text = String(decoding: sse, as: UTF8.self)
        #expect(text.contains(#""finish_reason":"tool_calls""#))
        #expect(!text.contains(#""arguments":"{}""#), "no parsable placeholder before the real arguments")
    }

    @Test func legacyFunctionCall() throws {
        let single = Array(Self.events.prefix(5)) + [.finish(.stop)]
        let (sse, json) = Self.encode(single, legacy: true)
        try Golden.check(sse, name: "legacy-function-call.openai.sse")
        try Golden.check(json, name: "legacy-function-call.openai.json")
    }

    @Test func toolCallsFinishWithoutCallsBecomesStop() {
        let (sse, json) = Self.encode([.text("done"), .finish(.toolCalls)], legacy: false)
        #expect(String(decoding: sse, as: UTF8.self).contains(#""finish_reason":"stop""#))
        #expect(String(decoding: json, as: UTF8.self).contains(#""finish_reason":"stop""#))
    }

    @Test func driverWithoutToolIdsGetsGeneratedOnes() {
        let (sse, _) = Self.encode([.toolCallStart(index: 0, id: "", name: "x"), .toolCallArguments(index: 0, fragment: "{}"), .toolCallEnd(index: 0), .finish(.toolCalls)], legacy: false)
        let text = String(decoding: sse, as: UTF8.self)
        #expect(text.firstMatch(of: /"id":"call_[A-Za-z0-9]{24}"/) != nil)
    }
}
