import Foundation
import Testing
@testable import Host
@testable import Operate

/// The gate's Swift contract checker (twin of Tests/e2e/contract.py): the host's own encoder
/// output passes, and each hand-broken transcript is rejected naming its rule.
@Suite struct StreamContractTests {
    static let headers: StreamContract.Headers = [("content-type", "text/event-stream"), ("x-request-id", "rid"), ("x-oneapi-request-id", "rid")]

    static func encode(_ events: [DriverEvent], finish: FinishReason = .stop) -> String {
        var encoder = OpenAIStreamEncoder(id: "chatcmpl-abc", created: 1_700_000_000, model: "m", legacyFunctions: false)
        var out: [UInt8] = []
        for e in events { encoder.encode(e, into: &out) }
        encoder.finish(finish, promptTokens: 7, completionTokens: 3, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static let toolAnswer = encode([
        .text("Calling."),
        .toolCallStart(index: 0, id: "call_AAAAAAAAAAAAAAAAAAAAAAAA", name: "lookup_order"),
        .toolCallArguments(index: 0, fragment: #"{"order_id":"A-1"}"#),
        .toolCallEnd(index: 0),
    ])

    static func check(_ text: String, expectError: Bool = false, headers: StreamContract.Headers = headers) throws -> StreamContract.StreamResult {
        try StreamContract.checkStream(status: 200, headers: headers, body: Array(text.utf8), expectError: expectError)
    }

    @Test func theHostsOwnStreamsPass() throws {
        let plain = try Self.check(Self.encode([.text("Hello"), .text(" world")]))
        #expect(plain.content == "Hello world" && plain.contentDeltas == 2 && plain.finishReason == "stop" && plain.usage?.prompt == 7)
        let tools = try Self.check(Self.toolAnswer)
        #expect(tools.toolCalls.map(\.name) == ["lookup_order"] && tools.finishReason == "tool_calls")
        #expect(tools.toolCalls[0].arguments == #"{"order_id":"A-1"}"#)
        var encoder = OpenAIStreamEncoder(id: "chatcmpl-abc", created: 1, model: "m", legacyFunctions: false)
        var out: [UInt8] = []
        encoder.encode(.text("part"), into: &out)
        encoder.fail(message: "upstream went away", type: "upstream_error", code: "upstream_error", into: &out)
        let failed = try Self.check(String(decoding: out, as: UTF8.self), expectError: true)
        #expect(failed.error?.code == "upstream_error")
        #expect(throws: StreamContract.Violation.self) { try Self.check(String(decoding: out, as: UTF8.self)) }
    }

    static let role = #"data: {"id":"chatcmpl-a","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#
    static func delta(_ d: String, id: String = "chatcmpl-a") -> String {
        #"data: {"id":"\#(id)","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":\#(d),"finish_reason":null}]}"#
    }
    static func finish(_ reason: String) -> String {
        #"data: {"id":"chatcmpl-a","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"\#(reason)"}]}"#
    }
    static let usage = #"data: {"id":"chatcmpl-a","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#
    static let done = "data: [DONE]"
    static func sse(_ events: [String]) -> String { events.map { $0 + "\n\n" }.joined() }
    static let call0 = #"{"tool_calls":[{"index":0,"id":"call_AAAAAAAAAAAAAAAAAAAAAAAA","type":"function","function":{"name":"f","arguments":""}}]}"#

    @Test(arguments: [
        ("no [DONE]", sse([role, delta(#"{"content":"hi"}"#), finish("stop"), usage]), "the stream must end with `data: [DONE]`"),
        ("no usage", sse([role, delta(#"{"content":"hi"}"#), finish("stop"), done]), "the usage chunk is missing"),
        ("silent end", sse([role, delta(#"{"content":"hi"}"#), done]), "before the finish chunk"),
        ("empty role", sse([delta(#"{"role":"","content":""}"#), finish("stop"), usage, done]), "delta.role must be"),
        ("crlf", sse([role, finish("stop"), usage, done]).replacingOccurrences(of: "\n", with: "\r\n"), "no \\r"),
        ("data after done", sse([role, finish("stop"), usage, done, delta(#"{"content":"x"}"#)]), "nothing may follow"),
        ("content with tools", sse([role, delta(#"{"content":"x","tool_calls":[{"index":0,"function":{"arguments":""}}]}"#)]), "never put content and tool_calls"),
        ("tool_calls without calls", sse([role, delta(#"{"content":"x"}"#), finish("tool_calls"), usage, done]), "finish_reason must be tool_calls exactly when"),
        ("placeholder arguments", sse([role, delta(call0), delta(#"{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}"#), delta(#"{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1}"}}]}"#)]), "no arguments may follow once they parse"),
        ("bad call id", sse([role, delta(call0.replacingOccurrences(of: "call_AAAAAAAAAAAAAAAAAAAAAAAA", with: "toolu_1"))]), "needs id call_"),
        ("index gap", sse([role, delta(call0.replacingOccurrences(of: #""index":0"#, with: #""index":1"#))]), "start at 0 and have no gaps"),
        ("changing id", sse([role, delta(#"{"content":"x"}"#, id: "chatcmpl-b"), finish("stop"), usage, done]), "id must be the same"),
        ("multi-line data", "data: {\"a\":\ndata: 1}\n\n" + sse([done]), "exactly one `data: ` line"),
        ("zero usage", sse([role, finish("stop"), usage.replacingOccurrences(of: #""completion_tokens":2,"total_tokens":5"#, with: #""completion_tokens":0,"total_tokens":3"#), done]), "completion_tokens must be an integer > 0"),
        ("error chunk", sse([role, #"data: {"error":{"message":"boom","type":"t","code":"c"}}"#, done]), "unexpected mid-stream error chunk"),
    ])
    func brokenTranscriptsAreRejected(name: String, text: String, rule: String) {
        do {
            _ = try Self.check(text)
            Issue.record("\(name): accepted")
        } catch {
            #expect(String(describing: error).contains(rule), "\(name): \(error)")
        }
    }

    @Test func requestIDHeadersAndGateways() throws {
        let good = Self.encode([.text("a")])
        #expect(throws: StreamContract.Violation.self) { try Self.check(good, headers: [("content-type", "text/event-stream"), ("x-request-id", "a"), ("x-oneapi-request-id", "b")]) }
        let viaGateway = try StreamContract.checkStream(status: 200, headers: [("content-type", "text/event-stream"), ("x-oneapi-request-id", "b")], body: Array(good.utf8), viaGateway: true)
        #expect(viaGateway.requestID == "b")
    }

    @Test func errorEnvelopes() throws {
        let body = Array(#"{"error":{"message":"slow down","type":"rate_limit_error","code":"rate_limited","param":null}}"#.utf8)
        let h: StreamContract.Headers = [("content-type", "application/json"), ("x-request-id", "r"), ("x-oneapi-request-id", "r")]
        let e = try StreamContract.checkError(status: 429, headers: h + [("retry-after", "2")], body: body)
        #expect(e.code == "rate_limited")
        #expect(throws: StreamContract.Violation.self) { try StreamContract.checkError(status: 429, headers: h, body: body) }
        #expect(throws: StreamContract.Violation.self) { try StreamContract.checkError(status: 504, headers: h, body: body) }
    }
}
