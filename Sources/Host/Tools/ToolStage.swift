/// One answer's tool emulation, between the driver's events and the encoder (drivers without
/// native tools): text streams through the detector, a complete `<tool_calls>` block becomes
/// real tool-call events and the answer's end, and a broken block or a missing required call
/// becomes a verdict: ask again (the pipeline decides whether the client has seen too much).
struct ToolStage {
    enum Verdict: Equatable {
        case proceed
        /// The block is complete: stop reading the upstream (it may not invent results).
        case stopUpstream
        /// Ask the model again, telling it this.
        case retry(String)
    }

    private let tools: [String: CanonicalRequest.Tool]
    private let choice: CanonicalRequest.ToolChoice
    private let parallel: Bool
    private let frontend: CanonicalRequest.Frontend
    private let active: Bool
    private var detector = ToolCallDetector()
    private var done = false

    init(request: CanonicalRequest, nativeTools: Bool) {
        tools = Dictionary(request.tools.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        choice = request.toolChoice
        parallel = request.parallelToolCalls
        frontend = request.frontend
        active = !nativeTools && !request.tools.isEmpty && request.toolChoice != .none
    }

    mutating func process(_ event: DriverEvent, into out: inout [DriverEvent]) -> Verdict {
        if done { return .proceed }
        guard active else {
            out.append(event)
            return .proceed
        }
        switch event {
        case .text(let delta):
            for piece in detector.feed(delta) {
                switch piece {
                case .text(let t):
                    out.append(.text(t))
                case .block(let markup):
                    return conclude(markup, cutOff: false, into: &out)
                case .unterminated:
                    break
                }
            }
            return .proceed
        case .finish(let reason) where reason != .cancelled:
            for piece in detector.finish() {
                switch piece {
                case .text(let t):
                    out.append(.text(t))
                case .block(let markup), .unterminated(let markup):
                    return conclude(markup, cutOff: true, into: &out)
                }
            }
            switch choice {
            case .required:
                return .retry("You must call at least one of the listed tools in this answer, in the <tool_calls> format.")
            case .function(let name):
                return .retry("You must call the tool \(name) in this answer, in the <tool_calls> format.")
            default:
                done = true
                out.append(.finish(reason == .toolCalls ? .stop : reason))
                return .proceed
            }
        default:
            out.append(event)
            return .proceed
        }
    }

    /// A whole block: parse, check, emit; or tell the model what was wrong.
    private mutating func conclude(_ markup: String, cutOff: Bool, into out: inout [DriverEvent]) -> Verdict {
        let calls: [ToolCallParser.Call]
        do { calls = try ToolCallParser.parse(markup, cutOff: cutOff) } catch {
            return .retry("Your tool call could not be read: \(error). Write it again exactly in the <tool_calls> format.")
        }
        var emitted: [(name: String, arguments: String)] = []
        for call in calls {
            guard let tool = tools[call.name] else {
                return .retry("There is no tool named \"\(call.name)\". The tools are: \(tools.keys.sorted().joined(separator: ", ")).")
            }
            let arguments: String
            do { arguments = try ToolArgumentChecker.arguments(for: call, tool: tool) } catch {
                return .retry("Your call to \(call.name) has invalid arguments: \(error).")
            }
            if emitted.contains(where: { $0.name == call.name && $0.arguments == arguments }) { continue }
            emitted.append((call.name, arguments))
            if !parallel { break }
        }
        if case .function(let required) = choice, !emitted.contains(where: { $0.name == required }) {
            return .retry("You must call the tool \(required) in this answer.")
        }
        for (index, call) in emitted.enumerated() {
            let id = frontend == .anthropic ? Identifiers.anthropicToolUseID() : Identifiers.openAIToolCallID()
            out.append(.toolCallStart(index: index, id: id, name: call.name))
            out.append(.toolCallArguments(index: index, fragment: call.arguments))
            out.append(.toolCallEnd(index: index))
        }
        done = true
        out.append(.finish(.toolCalls))
        return .stopUpstream
    }
}
