/// Collects a whole answer and writes the non-streamed `chat.completion` object.
struct OpenAIResponseEncoder {
    private var text = ""
    private var reasoning = ""
    private var calls: [(id: String, name: String, arguments: String)] = []
    private var open: [Int: Int] = [:]  // driver tool index → position in `calls`

    mutating func add(_ event: DriverEvent) {
        switch event {
        case .text(let s): text += s
        case .reasoning(let s): reasoning += s
        case .toolCallStart(let index, let id, let name):
            open[index] = calls.count
            calls.append((id.isEmpty ? Identifiers.openAIToolCallID() : id, name, ""))
        case .toolCallArguments(let index, let fragment):
            if let at = open[index] { calls[at].arguments += fragment }
        case .toolCallEnd, .usage, .session, .upstreamStatus, .finish, .error: break
        }
    }

    var toolCallCount: Int { calls.count }
    var toolCallIDs: [String] { calls.map(\.id) }

    var completionEstimate: Int {
        max(1, TokenEstimator.estimate(text) + TokenEstimator.estimate(reasoning) + calls.reduce(0) { $0 + TokenEstimator.estimate($1.name) + TokenEstimator.estimate($1.arguments) })
    }

    func body(id: String, created: Int, model: String, finish: FinishReason, promptTokens: Int, completionTokens: Int?, legacyFunctions: Bool) -> [UInt8] {
        var message = JSONObject([("role", "assistant")])
        message["content"] = text.isEmpty && !calls.isEmpty ? .null : .string(text)
        if !reasoning.isEmpty { message["reasoning_content"] = .string(reasoning) }
        let finishWire: String
        if !calls.isEmpty {
            if legacyFunctions {
                let c = calls[0]
                message["function_call"] = ["name": .string(c.name), "arguments": .string(c.arguments.isEmpty ? "{}" : c.arguments)]
                finishWire = "function_call"
            } else {
                message["tool_calls"] = .array(calls.map {
                    ["id": .string($0.id), "type": "function", "function": ["name": .string($0.name), "arguments": .string($0.arguments.isEmpty ? "{}" : $0.arguments)]]
                })
                finishWire = "tool_calls"
            }
        } else {
            switch finish {
            case .length: finishWire = "length"
            case .contentFilter: finishWire = "content_filter"
            default: finishWire = "stop"
            }
        }
        let prompt = max(1, promptTokens)
        let completion = max(1, completionTokens ?? completionEstimate)
        let root: JSONValue = [
            "id": .string(id),
            "object": "chat.completion",
            "created": .number(String(created)),
            "model": .string(model),
            "choices": [["index": 0, "message": .object(message), "finish_reason": .string(finishWire)]],
            "usage": ["prompt_tokens": .number(String(prompt)), "completion_tokens": .number(String(completion)), "total_tokens": .number(String(prompt + completion))],
        ]
        var out: [UInt8] = []
        JSONWriter.append(root, to: &out)
        return out
    }
}
