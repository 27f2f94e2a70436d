import Foundation
import Testing
@testable import Host

/// History for a driver without native tools: instructions in the system prompt, assistant calls
/// as `<tool_calls>` text, tool results as `<tool_result>` user turns, unknown ids refused.
@Suite struct ToolHistoryRendererTests {
    typealias Message = CanonicalRequest.Message

    static let tools: [CanonicalRequest.Tool] = [
        .init(name: "Write", description: "Writes a file.", parameters: try! JSONParser.parse(
            #"{"type":"object","properties":{"file_path":{"type":"string"},"content":{"type":"string"}},"required":["file_path","content"]}"#)),
        .init(name: "Bash", description: "Runs a command.", parameters: try! JSONParser.parse(
            #"{"type":"object","properties":{"command":{"type":"string"},"timeout":{"type":"integer"},"flags":{"type":"array","items":{"type":"string"}},"dry":{"type":"boolean"},"env":{"type":"object"}},"required":["command"]}"#)),
    ]

    static func request(_ messages: [Message], tools: [CanonicalRequest.Tool] = tools, choice: CanonicalRequest.ToolChoice = .auto) -> CanonicalRequest {
        var r = CanonicalRequest(requestID: "req", model: "m", stream: true, messages: messages)
        r.tools = tools
        r.toolChoice = choice
        return r
    }

    static func assistant(_ content: String, _ calls: [CanonicalRequest.ToolCall], reasoning: String? = nil) -> Message {
        var m = Message(role: .assistant, content: content)
        m.toolCalls = calls
        m.reasoning = reasoning
        return m
    }

    static func result(_ id: String?, _ content: String, name: String? = nil, error: Bool = false) -> Message {
        var m = Message(role: .tool, content: content)
        m.toolCallID = id
        m.name = name
        m.isError = error
        return m
    }

    static func render(_ r: CanonicalRequest) throws -> [Message] {
        try ToolHistoryRenderer.render(r).messages
    }

    static func error(_ r: CanonicalRequest) -> InvalidRequest? {
        do {
            _ = try ToolHistoryRenderer.render(r)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Exact text

    @Test func smallConversationExactText() throws {
        let r = Self.request([
            .init(role: .user, content: "Make a file."),
            Self.assistant("I'll write it.", [.init(id: "call_1", name: "Write", arguments: #"{"file_path":"/w/a.txt","content":"hi\nthere"}"#)]),
            Self.result("call_1", "ok"),
            .init(role: .user, content: "Thanks. Now list it."),
        ], choice: .none)
        let out = try Self.render(r)
        #expect(out.map(\.role) == [.user, .assistant, .user])
        #expect(out[1].content == """
            I'll write it.
            <tool_calls>
            <invoke name="Write">
            <parameter name="file_path">/w/a.txt</parameter>
            <parameter name="content">hi
            there</parameter>
            </invoke>
            </tool_calls>
            """)
        #expect(out[1].toolCalls.isEmpty)
        #expect(out[2].content == """
            <tool_result name="Write" id="call_1">
            ok
            </tool_result>

            Thanks. Now list it.
            """)
    }

    @Test func renderCallsParallelAndValueKinds() {
        let calls: [CanonicalRequest.ToolCall] = [
            .init(id: "a", name: "Bash", arguments: #"{"command":"ls","timeout":30000,"flags":["-l","-a"],"dry":false,"env":{"A":"1"}}"#),
            .init(id: "b", name: "Bash", arguments: #"{"command":"pwd","timeout":"5"}"#),
        ]
        #expect(ToolHistoryRenderer.renderCalls(calls, tools: Self.tools) == """
            <tool_calls>
            <invoke name="Bash">
            <parameter name="command">ls</parameter>
            <parameter name="timeout">30000</parameter>
            <parameter name="flags">["-l","-a"]</parameter>
            <parameter name="dry">false</parameter>
            <parameter name="env">{"A":"1"}</parameter>
            </invoke>
            <invoke name="Bash">
            <parameter name="command">pwd</parameter>
            <parameter name="timeout">"5"</parameter>
            </invoke>
            </tool_calls>
            """)
    }

    @Test func stringValuesAreVerbatim() {
        let content = "say \"hi\" \\ back\\slash\nline two\tTab Grüße 世界 🚀 <b>&amp;</b>"
        let args = JSONValue.object(JSONObject([("file_path", "/w/Grüße.txt"), ("content", .string(content))])).serialized
        let block = ToolHistoryRenderer.renderCalls([.init(id: "x", name: "Write", arguments: args)], tools: Self.tools)
        #expect(block.contains("<parameter name=\"content\">\(content)</parameter>"))
        #expect(block.contains("<parameter name=\"file_path\">/w/Grüße.txt</parameter>"))
    }

    @Test func cdataWhenAValueContainsTheClosingTag() {
        let args = #"{"file_path":"x.xml","content":"a </parameter> b"}"#
        let block = ToolHistoryRenderer.renderCalls([.init(id: "x", name: "Write", arguments: args)], tools: Self.tools)
        #expect(block.contains("<parameter name=\"content\"><![CDATA[a </parameter> b]]></parameter>"))
        #expect(block.contains("<parameter name=\"file_path\">x.xml</parameter>"))
    }

    @Test func unknownToolStringsRawOthersJSON() {
        let args = #"{"s":"text \"q\"","n":1.50,"b":true,"l":[1,"x"],"z":null}"#
        let block = ToolHistoryRenderer.renderCalls([.init(id: "x", name: "Mystery", arguments: args)], tools: Self.tools)
        #expect(block == """
            <tool_calls>
            <invoke name="Mystery">
            <parameter name="s">text "q"</parameter>
            <parameter name="n">1.50</parameter>
            <parameter name="b">true</parameter>
            <parameter name="l">[1,"x"]</parameter>
            <parameter name="z">null</parameter>
            </invoke>
            </tool_calls>
            """)
    }

    @Test func argumentsThatAreNotAnObjectUseTheJSONForm() {
        let block = ToolHistoryRenderer.renderCalls([
            .init(id: "x", name: "Bash", arguments: #"["ls"]"#),
            .init(id: "y", name: "Bash", arguments: #"{"command": "ls""#),
        ], tools: Self.tools)
        #expect(block == "<tool_calls>\n<invoke name=\"Bash\">[\"ls\"]</invoke>\n<invoke name=\"Bash\">{\"command\": \"ls\"</invoke>\n</tool_calls>")
    }

    /// What history shows is what the stream side reads back: same arguments, same types.
    @Test func renderedCallsRoundTripThroughTheParser() throws {
        let original = #"{"command":"echo \"a</parameter>b\" \\ 世界\n","timeout":30000,"flags":["-x"],"dry":true,"env":{"K":"v"}}"#
        let block = ToolHistoryRenderer.renderCalls([.init(id: "x", name: "Bash", arguments: original)], tools: Self.tools)
        let markup = String(block.dropFirst("<tool_calls>".count).dropLast("</tool_calls>".count))
        let calls = try ToolCallParser.parse(markup)
        let args = try ToolArgumentChecker.arguments(for: calls[0], tool: Self.tools[1])
        #expect(args == original)
    }

    // MARK: System prompt

    @Test func instructionsGoIntoTheFirstSystemMessage() throws {
        let r = Self.request([
            .init(role: .system, content: "You are helpful."),
            .init(role: .user, content: "hi"),
            .init(role: .system, content: "Second system."),
        ])
        let out = try Self.render(r)
        let instructions = ToolPromptRenderer.instructions(tools: Self.tools, choice: .auto, parallel: true)
        #expect(out.count == 3)
        #expect(out[0].content == "You are helpful.\n\n# Tools\n" + instructions)
        #expect(out[2].content == "Second system.")
    }

    @Test func aRequestWithoutSystemMessageGetsOne() throws {
        var r = Self.request([.init(role: .user, content: "hi")], choice: .function("Bash"))
        r.parallelToolCalls = false
        let out = try Self.render(r)
        #expect(out.count == 2)
        #expect(out[0].role == .system)
        #expect(out[0].content == "# Tools\n" + ToolPromptRenderer.instructions(tools: Self.tools, choice: .function("Bash"), parallel: false))
        #expect(out[0].content.contains("Call at most one tool per answer"))
        #expect(out[1].content == "hi")
    }

    @Test func noInstructionsWithoutToolsOrWithChoiceNone() throws {
        let history: [Message] = [
            .init(role: .user, content: "hi"),
            Self.assistant("", [.init(id: "c1", name: "Bash", arguments: #"{"command":"ls"}"#)]),
            Self.result("c1", "a.txt"),
        ]
        for r in [Self.request(history, choice: .none), Self.request(history, tools: [])] {
            let out = try Self.render(r)
            #expect(!out.contains { $0.role == .system })
            #expect(out[1].content == "<tool_calls>\n<invoke name=\"Bash\">\n<parameter name=\"command\">ls</parameter>\n</invoke>\n</tool_calls>")
            #expect(out[2].role == .user)
            #expect(out[2].content == "<tool_result name=\"Bash\" id=\"c1\">\na.txt\n</tool_result>")
        }
    }

    // MARK: Results

    @Test func consecutiveResultsMergeWithTheFollowingUserText() throws {
        var user = Message(role: .user, content: "Now commit.")
        user.name = "alice"
        let r = Self.request([
            .init(role: .user, content: "go"),
            Self.assistant("Two things.", [
                .init(id: "c1", name: "Bash", arguments: #"{"command":"ls"}"#),
                .init(id: "c2", name: "Write", arguments: #"{"file_path":"f","content":"x"}"#),
            ], reasoning: "thinking…"),
            Self.result("c1", "a.txt\nb.txt"),
            Self.result("c2", "permission denied", error: true),
            user,
            .init(role: .assistant, content: "Done."),
        ])
        let out = try Self.render(r)
        #expect(out.map(\.role) == [.system, .user, .assistant, .user, .assistant])
        #expect(out[2].reasoning == "thinking…")
        #expect(out[3].name == "alice")
        #expect(out[3].content == """
            <tool_result name="Bash" id="c1">
            a.txt
            b.txt
            </tool_result>
            <tool_result name="Write" id="c2" error="true">
            permission denied
            </tool_result>

            Now commit.
            """)
        #expect(out[4].content == "Done.")
    }

    @Test func resultsFollowedByAnAssistantStayTheirOwnTurn() throws {
        let r = Self.request([
            .init(role: .user, content: "go"),
            Self.assistant("", [.init(id: "c1", name: "Bash", arguments: #"{"command":"ls"}"#)]),
            Self.result("c1", "x", name: "Bash"),
            .init(role: .assistant, content: "Seen."),
            .init(role: .user, content: "ok"),
        ], choice: .none)
        let out = try Self.render(r)
        #expect(out.map(\.role) == [.user, .assistant, .user, .assistant, .user])
        #expect(out[2].content == "<tool_result name=\"Bash\" id=\"c1\">\nx\n</tool_result>")
        #expect(out[4].content == "ok")
    }

    @Test func unknownIDIsA400NamingTheOriginalIndex() {
        let r = Self.request([
            .init(role: .user, content: "go"),
            Self.assistant("", [.init(id: "c1", name: "Bash", arguments: "{}")]),
            Self.result("c1", "ok"),
            Self.result("c9", "lost"),
        ])
        let e = Self.error(r)
        #expect(e == InvalidRequest("messages[3].tool_call_id \"c9\" does not match any earlier tool call", param: "messages[3].tool_call_id"))
        #expect(e?.status == 400)
    }

    @Test func aResultBeforeItsCallIsRefused() {
        let r = Self.request([
            .init(role: .user, content: "go"),
            Self.result("c1", "too early"),
            Self.assistant("", [.init(id: "c1", name: "Bash", arguments: "{}")]),
        ], choice: .none)
        #expect(Self.error(r)?.param == "messages[1].tool_call_id")
    }

    @Test func legacyFunctionResultMatchedByName() throws {
        // Legacy `function_call` has no id (the decoder leaves it empty); `function` results name it.
        let r = Self.request([
            .init(role: .user, content: "go"),
            Self.assistant("", [.init(id: "", name: "Bash", arguments: #"{"command":"ls"}"#)]),
            Self.result(nil, "a.txt", name: "Bash"),
            Self.assistant("", [.init(id: "call_7", name: "Write", arguments: #"{"file_path":"f","content":"c"}"#)]),
            Self.result(nil, "written", name: "Write"),
        ], choice: .none)
        let out = try Self.render(r)
        #expect(out[2].content == "<tool_result name=\"Bash\">\na.txt\n</tool_result>")
        #expect(out[4].content == "<tool_result name=\"Write\" id=\"call_7\">\nwritten\n</tool_result>")
    }

    @Test func legacyResultWithUnknownNameIsA400() {
        let r = Self.request([
            .init(role: .user, content: "go"),
            Self.assistant("", [.init(id: "", name: "Bash", arguments: "{}")]),
            Self.result(nil, "?", name: "Read"),
        ])
        #expect(Self.error(r) == InvalidRequest("messages[2].name \"Read\" does not match any earlier tool call", param: "messages[2].name"))
    }

    @Test func legacyNameMatchesTheMostRecentCall() throws {
        let r = Self.request([
            .init(role: .user, content: "go"),
            Self.assistant("", [.init(id: "old", name: "Bash", arguments: "{}")]),
            Self.result("old", "1"),
            Self.assistant("", [.init(id: "new", name: "Bash", arguments: "{}")]),
            Self.result(nil, "2", name: "Bash"),
        ], choice: .none)
        let out = try Self.render(r)
        #expect(out[4].content == "<tool_result name=\"Bash\" id=\"new\">\n2\n</tool_result>")
    }

    @Test func orderAndOtherMessagesAreKept() throws {
        let r = Self.request([
            .init(role: .system, content: "S"),
            .init(role: .user, content: "u1"),
            .init(role: .assistant, content: "a1", reasoning: "r1"),
            .init(role: .user, content: "u2"),
        ], choice: .none)
        let out = try Self.render(r)
        #expect(out.map(\.content) == ["S", "u1", "a1", "u2"])
        #expect(out[2].reasoning == "r1")
    }

    @Test func deterministic() throws {
        let r = Self.request([
            .init(role: .user, content: "go"),
            Self.assistant("x", [.init(id: "c1", name: "Bash", arguments: #"{"command":"ls","env":{"b":"1","a":"2"}}"#)]),
            Self.result("c1", "ok"),
        ], tools: ClaudeCodeTools.all)
        let a = try Self.render(r).map(\.content)
        let b = try Self.render(r).map(\.content)
        #expect(a == b)
    }
}
