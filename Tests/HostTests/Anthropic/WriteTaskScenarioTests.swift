import Testing
@testable import Host

/// `mock-write-task` through the host's tool stage: the task sentence in the last user message
/// (after an agent's reminders, which hold URLs and slashes of their own) becomes one Write call
/// with exactly the quoted content; a tool result in the last user turn ends the task in text.
@Suite struct WriteTaskScenarioTests {
    static let write = CanonicalRequest.Tool(name: "Write", description: "Write a file", parameters: try! JSONParser.parse(
        #"{"type":"object","properties":{"file_path":{"type":"string"},"content":{"type":"string"}},"required":["file_path","content"]}"#))

    static func answer(_ messages: [CanonicalRequest.Message]) async throws -> [DriverEvent] {
        var request = CanonicalRequest(requestID: "w1", model: "mock-write-task", stream: true, messages: messages)
        request.tools = [write]
        request.frontend = .anthropic
        let rendered = try ToolHistoryRenderer.render(request)
        let driver = try DriverHarness.load(BuildProducts.mockDriver)
        var stage = ToolStage(request: rendered, nativeTools: false)
        var out: [DriverEvent] = []
        for event in try await DriverHarness.run(driver, request: rendered.driverJSON(toolMode: "text")) {
            if stage.process(event, into: &out) == .stopUpstream { break }
        }
        return out
    }

    @Test func taskBecomesOneWriteCall() async throws {
        let events = try await Self.answer([.init(role: .user, content: "<system-reminder>See https://claude.com/claude-code and /etc/x \"quoted\"</system-reminder>\n\nCreate the file /tmp/w/notes/hello.txt containing \"Hi / there\".")])
        let calls = events.compactMap { if case .toolCallArguments(_, let a) = $0 { a } else { nil } }
        #expect(calls == [#"{"file_path":"/tmp/w/notes/hello.txt","content":"Hi / there"}"#])
        #expect(events.last == .finish(.toolCalls))
    }

    @Test func resultEndsTheTask() async throws {
        let call = CanonicalRequest.ToolCall(id: "toolu_1", name: "Write", arguments: #"{"file_path":"/tmp/a","content":"x"}"#)
        var assistant = CanonicalRequest.Message(role: .assistant, content: "")
        assistant.toolCalls = [call]
        var result = CanonicalRequest.Message(role: .tool, content: "File created")
        result.toolCallID = "toolu_1"
        let events = try await Self.answer([.init(role: .user, content: #"Create the file /tmp/a containing "x"."#), assistant, result])
        let text = events.compactMap { if case .text(let t) = $0 { t } else { nil } }.joined()
        #expect(text == "Done. The tool said: File created")
        #expect(events.last == .finish(.stop))
    }

    @Test func noTaskIsSaidInText() async throws {
        let events = try await Self.answer([.init(role: .user, content: "Create a file somewhere.")])
        #expect(!events.contains { if case .toolCallStart = $0 { true } else { false } })
        #expect(events.last == .finish(.stop))
    }
}
