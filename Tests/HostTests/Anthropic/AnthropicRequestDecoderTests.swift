import Testing
@testable import Host

/// Anthropic Messages requests → the canonical request: every shape Claude Code sends is
/// accepted, and every bad field is a 400 that names it.
@Suite struct AnthropicRequestDecoderTests {
    static func decode(_ json: String, requireMaxTokens: Bool = true) throws(InvalidRequest) -> CanonicalRequest {
        try AnthropicRequestDecoder.decode(Array(json.utf8), requestID: "r1", requireMaxTokens: requireMaxTokens)
    }

    /// The shape of a Claude Code turn: system blocks with cache_control, a system-role note in
    /// messages, text and tool_use and thinking blocks, a tool_result with block content and
    /// is_error, tools with input_schema (one deferred, one server tool), thinking, metadata,
    /// context_management and other unknown fields.
    static let claudeCodeTurn = #"""
    {"model":"claude-opus-5-5","max_tokens":32000,"stream":true,
     "system":[{"type":"text","text":"You are Claude Code."},{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],
     "messages":[
       {"role":"user","content":[{"type":"text","text":"<system-reminder>x</system-reminder>"},{"type":"text","text":"Create a.txt","cache_control":{"type":"ephemeral"}}]},
       {"role":"system","content":[{"type":"text","text":"Working directory: /tmp"}]},
       {"role":"assistant","content":[{"type":"thinking","thinking":"Use Write.","signature":"sig"},{"type":"text","text":"Writing."},
         {"type":"tool_use","id":"toolu_1","name":"Write","input":{"file_path":"/tmp/a.txt","content":"hi"}}]},
       {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"File created"},{"type":"image","source":{}}],"is_error":true},
         {"type":"text","text":"Now stop."}]}],
     "tools":[{"name":"Write","description":"Write a file","input_schema":{"type":"object","properties":{"file_path":{"type":"string"}}},"cache_control":{"type":"ephemeral"}},
              {"name":"DeferredToolPlaceholder","input_schema":{"type":"object","properties":{}},"defer_loading":true},
              {"type":"web_search_20250305","name":"web_search","max_uses":5}],
     "tool_choice":{"type":"auto","disable_parallel_tool_use":true},
     "thinking":{"type":"adaptive"},"metadata":{"user_id":"u"},"context_management":{"edits":[]},"output_config":{"effort":"medium"},
     "stop_sequences":["END"],"temperature":0.5,"top_k":5}
    """#

    @Test func claudeCodeTurnIsAccepted() throws {
        let r = try Self.decode(Self.claudeCodeTurn)
        #expect(r.model == "claude-opus-5-5" && r.stream && r.maxTokens == 32000 && r.frontend == .anthropic)
        #expect(r.messages.map(\.role) == [.system, .user, .system, .assistant, .tool, .user])
        #expect(r.messages[0].content == "You are Claude Code.\n\nBe brief.")
        #expect(r.messages[1].content == "<system-reminder>x</system-reminder>\n\nCreate a.txt")
        let assistant = r.messages[3]
        #expect(assistant.content == "Writing." && assistant.reasoning == "Use Write.")
        #expect(assistant.toolCalls == [.init(id: "toolu_1", name: "Write", arguments: #"{"file_path":"/tmp/a.txt","content":"hi"}"#)])
        let result = r.messages[4]
        #expect(result.toolCallID == "toolu_1" && result.name == "Write" && result.isError && result.content == "File created\n\n[image]")
        #expect(r.messages[5].content == "Now stop.")
        #expect(r.tools.map(\.name) == ["Write"], "deferred and server tools are not offered to the model")
        #expect(r.toolChoice == .auto && !r.parallelToolCalls)
        #expect(r.stop == ["END"] && r.temperature == 0.5)
    }

    @Test func toolChoices() throws {
        let tools = #","tools":[{"name":"Read","input_schema":{"type":"object"}}]"#
        func choice(_ c: String) throws(InvalidRequest) -> CanonicalRequest.ToolChoice {
            try Self.decode(#"{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tool_choice":"# + c + tools + "}").toolChoice
        }
        #expect(try choice(#"{"type":"auto"}"#) == .auto)
        #expect(try choice(#"{"type":"any"}"#) == .required)
        #expect(try choice(#"{"type":"none"}"#) == .none)
        #expect(try choice(#"{"type":"tool","name":"Read"}"#) == .function("Read"))
    }

    @Test func countTokensNeedsNoMaxTokens() throws {
        let r = try Self.decode(#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#, requireMaxTokens: false)
        #expect(r.maxTokens == nil && !r.stream)
    }

    static let broken: [(body: String, param: String)] = [
        (#"[1]"#, ""),
        (#"{"max_tokens":1,"messages":[{"role":"user","content":"x"}]}"#, "model"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#, "max_tokens"),
        (#"{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"x"}]}"#, "max_tokens"),
        (#"{"model":"m","max_tokens":1,"messages":[]}"#, "messages"),
        (#"{"model":"m","max_tokens":1,"messages":[{"role":"tool","content":"x"}]}"#, "messages[0].role"),
        (#"{"model":"m","max_tokens":1,"messages":[{"role":"user"}]}"#, "messages[0].content"),
        (#"{"model":"m","max_tokens":1,"messages":[{"role":"user","content":7}]}"#, "messages[0].content"),
        (#"{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"text"}]}]}"#, "messages[0].content[0].text"),
        (#"{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_9","content":"r"}]}]}"#, "messages[0].content[0].tool_use_id"),
        (#"{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"x","input":[1]}]}]}"#, "messages[0].content[0].input"),
        (#"{"model":"m","max_tokens":1,"system":5,"messages":[{"role":"user","content":"x"}]}"#, "system"),
        (#"{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"a"}]}"#, "tools[0].input_schema"),
        (#"{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"a","input_schema":{}},{"name":"a","input_schema":{}}]}"#, "tools[1].name"),
        (#"{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"required"}}"#, "tool_choice.type"),
        (#"{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"tool","name":"nope"}}"#, "tool_choice.name"),
        (#"{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"stop_sequences":"END"}"#, "stop_sequences"),
        (#"{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"thinking":true}"#, "thinking"),
        (#"{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"temperature":"hot"}"#, "temperature"),
    ]

    @Test(arguments: broken.indices)
    func badFieldIsNamed(_ i: Int) {
        let (body, param) = Self.broken[i]
        do {
            _ = try Self.decode(body)
            Issue.record("accepted: \(body)")
        } catch {
            #expect(error.status == 400)
            if !param.isEmpty {
                #expect(error.param == param, "\(body) → \(error.message)")
                #expect(ClientError(error).anthropicBody.count > 0)
                let envelope = String(decoding: ClientError(error).anthropicBody, as: UTF8.self)
                #expect(envelope.hasPrefix(#"{"type":"error","error":{"type":"invalid_request_error","message":""#) && envelope.contains(param), "\(envelope)")
            }
        }
    }

    /// A text-only driver sees the Anthropic history as the tool protocol renders it: the
    /// tool_use as a <tool_calls> block, the result as a <tool_result> in the next user turn.
    @Test func historyRendersForATextDriver() throws {
        let rendered = try ToolHistoryRenderer.render(try Self.decode(Self.claudeCodeTurn))
        #expect(rendered.messages.map(\.role) == [.system, .user, .system, .assistant, .user])
        #expect(rendered.messages[3].content.hasSuffix("</tool_calls>"))
        #expect(rendered.messages[4].content.hasPrefix(#"<tool_result name="Write" id="toolu_1" error="true">"#))
        #expect(rendered.messages[4].content.hasSuffix("Now stop."))
    }
}
