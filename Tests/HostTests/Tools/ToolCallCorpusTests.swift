import Foundation
import Testing
@testable import Host

/// Model outputs with their expected results, through the ToolStage exactly as an answer flows:
/// whole, split into two deltas at every position, and one character per delta — the result
/// must never depend on how the text was cut.
@Suite struct ToolCallCorpusTests {
    struct Expected: Equatable {
        var text: String
        var calls: [String]          // "Name <arguments JSON>"
        var verdict: String          // "stop", "tool_calls", or "retry: <start of the reason>"
    }

    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var output: String
        var expected: Expected
        var choice: CanonicalRequest.ToolChoice = .auto
        var parallel = true
        var description: String { name }
    }

    static let tools: [CanonicalRequest.Tool] = [
        .init(name: "Write", description: "", parameters: try! JSONParser.parse(
            #"{"type":"object","properties":{"file_path":{"type":"string"},"content":{"type":"string"}},"required":["file_path","content"]}"#)),
        .init(name: "Bash", description: "", parameters: try! JSONParser.parse(
            #"{"type":"object","properties":{"command":{"type":"string"},"timeout":{"type":"integer"},"mode":{"type":"string","enum":["fast","safe"]}},"required":["command"]}"#)),
        .init(name: "mcp__github__create_issue", description: "", parameters: try! JSONParser.parse(
            #"{"type":"object","properties":{"title":{"type":"string"},"labels":{"type":"array","items":{"type":"string"}},"draft":{"type":"boolean"}},"required":["title"]}"#)),
    ]

    static let cases: [Case] = [
        Case(name: "plain text", output: "Hello, world. 1 < 2 and <b>bold</b>.", expected: .init(text: "Hello, world. 1 < 2 and <b>bold</b>.", calls: [], verdict: "stop")),
        Case(name: "one call", output: "<tool_calls>\n<invoke name=\"Bash\">\n<parameter name=\"command\">ls -la</parameter>\n</invoke>\n</tool_calls>",
             expected: .init(text: "", calls: [#"Bash {"command":"ls -la"}"#], verdict: "tool_calls")),
        Case(name: "text then call",
             output: "I'll create it.\n<tool_calls>\n<invoke name=\"Write\">\n<parameter name=\"file_path\">/w/a.txt</parameter>\n<parameter name=\"content\">hi</parameter>\n</invoke>\n</tool_calls>",
             expected: .init(text: "I'll create it.\n", calls: [#"Write {"file_path":"/w/a.txt","content":"hi"}"#], verdict: "tool_calls")),
        Case(name: "parallel calls",
             output: "<tool_calls><invoke name=\"Bash\"><parameter name=\"command\">pwd</parameter></invoke><invoke name=\"Bash\"><parameter name=\"command\">ls</parameter><parameter name=\"timeout\">30000</parameter></invoke></tool_calls>",
             expected: .init(text: "", calls: [#"Bash {"command":"pwd"}"#, #"Bash {"command":"ls","timeout":30000}"#], verdict: "tool_calls")),
        Case(name: "call inside a code fence is text",
             output: "Example:\n```xml\n<tool_calls>\n<invoke name=\"Bash\"></invoke>\n</tool_calls>\n```\nDone.",
             expected: .init(text: "Example:\n```xml\n<tool_calls>\n<invoke name=\"Bash\"></invoke>\n</tool_calls>\n```\nDone.", calls: [], verdict: "stop")),
        Case(name: "inline code is text", output: "Use the `<tool_calls>` tag.", expected: .init(text: "Use the `<tool_calls>` tag.", calls: [], verdict: "stop")),
        Case(name: "CDATA",
             output: "<tool_calls><invoke name=\"Write\"><parameter name=\"file_path\">x.xml</parameter><parameter name=\"content\"><![CDATA[a </parameter> b]]></parameter></invoke></tool_calls>",
             expected: .init(text: "", calls: [#"Write {"file_path":"x.xml","content":"a </parameter> b"}"#], verdict: "tool_calls")),
        Case(name: "quotes, backslashes, newlines, non-ASCII verbatim",
             output: "<tool_calls>\n<invoke name=\"Write\">\n<parameter name=\"file_path\">/w/Grüße 世界.txt</parameter>\n<parameter name=\"content\">line one\nsay \"hi\" \\ back\\slash\n🚀</parameter>\n</invoke>\n</tool_calls>",
             expected: .init(text: "", calls: [#"Write {"file_path":"/w/Grüße 世界.txt","content":"line one\nsay \"hi\" \\ back\\slash\n🚀"}"#], verdict: "tool_calls")),
        Case(name: "JSON-object form",
             output: "<tool_calls><invoke name=\"mcp__github__create_issue\">{\"title\": \"Bug\", \"labels\": [\"a\", \"b\"], \"draft\": true}</invoke></tool_calls>",
             expected: .init(text: "", calls: [#"mcp__github__create_issue {"title":"Bug","labels":["a","b"],"draft":true}"#], verdict: "tool_calls")),
        Case(name: "repairable JSON and coercions",
             output: "<tool_calls><invoke name=\"mcp__github__create_issue\"><parameter name=\"title\">T</parameter><parameter name=\"labels\">['x', 'y',]</parameter><parameter name=\"draft\">yes</parameter></invoke><invoke name=\"Bash\"><parameter name=\"command\">ls</parameter><parameter name=\"timeout\">\"5\"</parameter><parameter name=\"mode\">SAFE</parameter></invoke></tool_calls>",
             expected: .init(text: "", calls: [#"mcp__github__create_issue {"title":"T","labels":["x","y"],"draft":true}"#, #"Bash {"command":"ls","timeout":5,"mode":"safe"}"#], verdict: "tool_calls")),
        Case(name: "wrong tool name", output: "<tool_calls><invoke name=\"bash\"><parameter name=\"command\">ls</parameter></invoke></tool_calls>",
             expected: .init(text: "", calls: [], verdict: "retry: There is no tool named \"bash\"")),
        Case(name: "invalid JSON", output: "<tool_calls><invoke name=\"mcp__github__create_issue\"><parameter name=\"title\">T</parameter><parameter name=\"labels\">[oops</parameter></invoke></tool_calls>",
             expected: .init(text: "", calls: [], verdict: "retry: Your call to mcp__github__create_issue has invalid arguments")),
        Case(name: "missing required parameter", output: "<tool_calls><invoke name=\"Write\"><parameter name=\"file_path\">a</parameter></invoke></tool_calls>",
             expected: .init(text: "", calls: [], verdict: "retry: Your call to Write has invalid arguments: Write needs the parameter \"content\"")),
        Case(name: "unterminated block", output: "Now:\n<tool_calls>\n<invoke name=\"Bash\">\n<parameter name=\"command\">ls",
             expected: .init(text: "Now:\n", calls: [], verdict: "retry: Your tool call could not be read")),
        Case(name: "block without its closing tag but complete invokes",
             output: "<tool_calls>\n<invoke name=\"Bash\">\n<parameter name=\"command\">ls</parameter>\n</invoke>\n",
             expected: .init(text: "", calls: [#"Bash {"command":"ls"}"#], verdict: "tool_calls")),
        Case(name: "text after the block is ignored",
             output: "<tool_calls><invoke name=\"Bash\"><parameter name=\"command\">ls</parameter></invoke></tool_calls>\nThe result is: secret.txt",
             expected: .init(text: "", calls: [#"Bash {"command":"ls"}"#], verdict: "tool_calls")),
        Case(name: "a second block is ignored",
             output: "<tool_calls><invoke name=\"Bash\"><parameter name=\"command\">a</parameter></invoke></tool_calls><tool_calls><invoke name=\"Bash\"><parameter name=\"command\">b</parameter></invoke></tool_calls>",
             expected: .init(text: "", calls: [#"Bash {"command":"a"}"#], verdict: "tool_calls")),
        Case(name: "identical calls are dropped",
             output: "<tool_calls><invoke name=\"Bash\"><parameter name=\"command\">ls</parameter></invoke><invoke name=\"Bash\"><parameter name=\"command\">ls</parameter></invoke></tool_calls>",
             expected: .init(text: "", calls: [#"Bash {"command":"ls"}"#], verdict: "tool_calls")),
        Case(name: "parallel_tool_calls false keeps the first",
             output: "<tool_calls><invoke name=\"Bash\"><parameter name=\"command\">a</parameter></invoke><invoke name=\"Bash\"><parameter name=\"command\">b</parameter></invoke></tool_calls>",
             expected: .init(text: "", calls: [#"Bash {"command":"a"}"#], verdict: "tool_calls"), parallel: false),
        Case(name: "required but no call", output: "I would rather chat.", expected: .init(text: "I would rather chat.", calls: [], verdict: "retry: You must call at least one"), choice: .required),
        Case(name: "named function but another was called", output: "<tool_calls><invoke name=\"Bash\"><parameter name=\"command\">a</parameter></invoke></tool_calls>",
             expected: .init(text: "", calls: [], verdict: "retry: You must call the tool Write"), choice: .function("Write")),
        Case(name: "invoke without the wrapper", output: "Sure.\n<invoke name=\"Bash\">\n<parameter name=\"command\">ls</parameter>\n</invoke>",
             expected: .init(text: "Sure.\n", calls: [#"Bash {"command":"ls"}"#], verdict: "tool_calls")),
        Case(name: "lookalike tags", output: "<tool_call> and <tool_callsx> and <invok> and </tool_calls> are text", expected: .init(text: "<tool_call> and <tool_callsx> and <invok> and </tool_calls> are text", calls: [], verdict: "stop")),
    ]

    static func run(_ c: Case, deltas: [String]) -> Expected {
        var request = CanonicalRequest(requestID: "t", model: "m", stream: true, messages: [.init(role: .user, content: "go")])
        request.tools = tools
        request.toolChoice = c.choice
        request.parallelToolCalls = c.parallel
        var stage = ToolStage(request: request, nativeTools: false)
        var out: [DriverEvent] = []
        var verdict = "stop"
        loop: for event in deltas.map({ DriverEvent.text($0) }) + [.finish(.stop)] {
            switch stage.process(event, into: &out) {
            case .proceed: continue
            case .stopUpstream: break loop
            case .retry(let reason):
                verdict = "retry: " + reason
                break loop
            }
        }
        var text = ""
        var calls: [String] = []
        var args: [Int: String] = [:]
        var names: [Int: String] = [:]
        for e in out {
            switch e {
            case .text(let t): text += t
            case .toolCallStart(let i, let id, let name):
                #expect(id.wholeMatch(of: /call_[A-Za-z0-9]{24}/) != nil)
                names[i] = name
            case .toolCallArguments(let i, let a): args[i, default: ""] += a
            case .toolCallEnd(let i): calls.append("\(names[i]!) \(args[i] ?? "")")
            case .finish(let r): if !verdict.hasPrefix("retry") { verdict = r.rawValue }
            default: break
            }
        }
        return Expected(text: text, calls: calls, verdict: verdict)
    }

    static func matches(_ actual: Expected, _ expected: Expected) -> Bool {
        actual.text == expected.text && actual.calls == expected.calls
            && (expected.verdict.hasPrefix("retry") ? actual.verdict.hasPrefix(expected.verdict) : actual.verdict == expected.verdict)
    }

    @Test(arguments: cases)
    func wholeOutput(_ c: Case) {
        let actual = Self.run(c, deltas: [c.output])
        #expect(Self.matches(actual, c.expected), "\(c.name): got \(actual)")
    }

    @Test(arguments: cases)
    func everySplitGivesTheSameResult(_ c: Case) {
        let whole = Self.run(c, deltas: [c.output])
        let chars = Array(c.output)
        for cut in 1..<chars.count {
            let split = Self.run(c, deltas: [String(chars[..<cut]), String(chars[cut...])])
            #expect(split == whole, "\(c.name): split at \(cut) gives \(split)")
            if split != whole { return }
        }
        #expect(Self.run(c, deltas: chars.map { String($0) }) == whole, "\(c.name): one character per delta")
    }

    @Test func markupNeverLeaksAsText() {
        for c in Self.cases where !c.expected.text.contains("<tool_calls>") {
            #expect(!Self.run(c, deltas: [c.output]).text.contains("<invoke"), "\(c.name)")
        }
    }
}
