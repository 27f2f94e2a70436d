/// Driver events → Chat Completions SSE bytes, byte-exact to client-contracts.md. A state machine
/// that never touches the network: the caller decides when to write what it returns.
///
/// Order it guarantees: role chunk first; content/reasoning/tool-call deltas; one finish chunk
/// (`tool_calls` exactly when tool calls were sent); a usage chunk with `choices: []`; `[DONE]`.
struct OpenAIStreamEncoder: Sendable {
    let model: String
    private let chunkPrefix: [UInt8]  // `data: {"id":…,"object":"chat.completion.chunk","created":…,"model":…,`
    private var sentRole = false
    private(set) var finished = false
    private(set) var chunksSent = 0
    private var legacyFunctions: Bool
    /// Tool calls whose arguments are being collected: they go out whole (see `toolCallEnd`).
    private var pendingCalls: [Int: (id: String, name: String, arguments: String)] = [:]
    private var nextToolIndex = 0
    private(set) var toolCallsSent = 0
    private(set) var toolCallIDs: [String] = []
    private var completionTokenEstimate = 0

    init(id: String, created: Int, model: String, legacyFunctions: Bool = false) {
        self.model = model
        self.legacyFunctions = legacyFunctions
        var p: [UInt8] = Array("data: {\"id\":".utf8)
        JSONWriter.appendString(id, to: &p)
        p += Array(",\"object\":\"chat.completion.chunk\",\"created\":\(created),\"model\":".utf8)
        JSONWriter.appendString(model, to: &p)
        p.append(UInt8(ascii: ","))
        chunkPrefix = p
    }

    var hasStarted: Bool { sentRole }

    /// Appends the bytes for one event. Terminal events are handled by `finish`/`fail`.
    mutating func encode(_ event: DriverEvent, into out: inout [UInt8]) {
        switch event {
        case .text(let s):
            guard !s.isEmpty else { return }
            startIfNeeded(into: &out)
            completionTokenEstimate += TokenEstimator.estimate(s)
            delta(into: &out) { o in
                o += Self.contentKey
                JSONWriter.appendString(s, to: &o)
            }
        case .reasoning(let s):
            guard !s.isEmpty else { return }
            startIfNeeded(into: &out)
            completionTokenEstimate += TokenEstimator.estimate(s)
            delta(into: &out) { o in
                o += Self.reasoningKey
                JSONWriter.appendString(s, to: &o)
            }
        case .toolCallStart(let index, let id, let name):
            pendingCalls[index] = (id.isEmpty ? Identifiers.openAIToolCallID() : id, name, "")
        case .toolCallArguments(let index, let fragment):
            pendingCalls[index]?.arguments += fragment
        case .toolCallEnd(let index):
            if let call = pendingCalls.removeValue(forKey: index) { sendToolCall(call, into: &out) }
        case .usage, .session, .upstreamStatus, .finish, .error:
            return
        }
    }

    /// The finish chunk, the usage chunk and `[DONE]`.
    mutating func finish(_ reason: FinishReason, promptTokens: Int, completionTokens: Int?, into out: inout [UInt8]) {
        guard !finished else { return }
        // Calls the driver never closed are complete as far as we will ever know.
        for index in pendingCalls.keys.sorted() { sendToolCall(pendingCalls[index]!, into: &out) }
        pendingCalls.removeAll()
        startIfNeeded(into: &out)
        let wire: String
        if toolCallsSent > 0 {
            wire = legacyFunctions ? "function_call" : "tool_calls"
        } else {
            switch reason {
            case .length: wire = "length"
            case .contentFilter: wire = "content_filter"
            default: wire = "stop"
            }
        }
        out += chunkPrefix
        out += Array("\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"\(wire)\"}]}\n\n".utf8)
        let completion = max(1, completionTokens ?? completionTokenEstimate)
        let prompt = max(1, promptTokens)
        out += chunkPrefix
        out += Array("\"choices\":[],\"usage\":{\"prompt_tokens\":\(prompt),\"completion_tokens\":\(completion),\"total_tokens\":\(prompt + completion)}}\n\n".utf8)
        out += Self.done
        chunksSent += 3
        finished = true
    }

    /// A mid-stream failure: an error chunk, then `[DONE]`. Never a silent `stop`.
    mutating func fail(message: String, type: String, code: String, into out: inout [UInt8]) {
        guard !finished else { return }
        out += Array("data: {\"error\":{\"message\":".utf8)
        JSONWriter.appendString(message, to: &out)
        out += Array(",\"type\":".utf8)
        JSONWriter.appendString(type, to: &out)
        out += Array(",\"code\":".utf8)
        JSONWriter.appendString(code, to: &out)
        out += Array("}}\n\n".utf8)
        out += Self.done
        chunksSent += 2
        finished = true
    }

    // MARK: Pieces

    private static let contentKey: [UInt8] = Array("\"content\":".utf8)
    private static let reasoningKey: [UInt8] = Array("\"reasoning_content\":".utf8)
    private static let done: [UInt8] = Array("data: [DONE]\n\n".utf8)
    private static let deltaOpen: [UInt8] = Array("\"choices\":[{\"index\":0,\"delta\":{".utf8)
    private static let deltaClose: [UInt8] = Array("},\"finish_reason\":null}]}\n\n".utf8)

    private mutating func startIfNeeded(into out: inout [UInt8]) {
        guard !sentRole else { return }
        sentRole = true
        delta(into: &out) { $0 += Array("\"role\":\"assistant\",\"content\":\"\"".utf8) }
    }

    private mutating func delta(into out: inout [UInt8], _ body: (inout [UInt8]) -> Void) {
        out += chunkPrefix
        out += Self.deltaOpen
        body(&out)
        out += Self.deltaClose
        chunksSent += 1
    }

    /// One call goes out as two deltas: the header (index, id, type, name, empty arguments) and
    /// then the complete arguments. Never a parsable placeholder first (AI SDK 2.0 would stop there).
    private mutating func sendToolCall(_ call: (id: String, name: String, arguments: String), into out: inout [UInt8]) {
        startIfNeeded(into: &out)
        let index = nextToolIndex
        nextToolIndex += 1
        toolCallsSent += 1
        toolCallIDs.append(call.id)
        completionTokenEstimate += TokenEstimator.estimate(call.name) + TokenEstimator.estimate(call.arguments)
        let arguments = call.arguments.isEmpty ? "{}" : call.arguments
        if legacyFunctions {
            delta(into: &out) { o in
                o += Array("\"function_call\":{\"name\":".utf8)
                JSONWriter.appendString(call.name, to: &o)
                o += Array(",\"arguments\":\"\"}".utf8)
            }
            delta(into: &out) { o in
                o += Array("\"function_call\":{\"arguments\":".utf8)
                JSONWriter.appendString(arguments, to: &o)
                o += Array("}".utf8)
            }
            return
        }
        delta(into: &out) { o in
            o += Array("\"tool_calls\":[{\"index\":\(index),\"id\":".utf8)
            JSONWriter.appendString(call.id, to: &o)
            o += Array(",\"type\":\"function\",\"function\":{\"name\":".utf8)
            JSONWriter.appendString(call.name, to: &o)
            o += Array(",\"arguments\":\"\"}}]".utf8)
        }
        delta(into: &out) { o in
            o += Array("\"tool_calls\":[{\"index\":\(index),\"function\":{\"arguments\":".utf8)
            JSONWriter.appendString(arguments, to: &o)
            o += Array("}}]".utf8)
        }
    }
}
