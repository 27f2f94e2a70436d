/// Collects a whole answer and writes the non-streamed Anthropic `message` object: blocks in the
/// order they arrived (thinking, text, tool_use), stop_reason `tool_use` exactly when there are
/// tool_use blocks, usage always.
struct AnthropicResponseEncoder {
    private enum Block {
        case text(String)
        case thinking(String)
        case toolUse(id: String, name: String, arguments: String)
    }

    private var blocks: [Block] = []
    private var open: [Int: Int] = [:]  // driver tool index → position in `blocks`

    mutating func add(_ event: DriverEvent) {
        switch event {
        case .text(let s):
            guard !s.isEmpty else { return }
            if case .text(let t)? = blocks.last { blocks[blocks.count - 1] = .text(t + s) } else { blocks.append(.text(s)) }
        case .reasoning(let s):
            guard !s.isEmpty else { return }
            if case .thinking(let t)? = blocks.last { blocks[blocks.count - 1] = .thinking(t + s) } else { blocks.append(.thinking(s)) }
        case .toolCallStart(let index, let id, let name):
            open[index] = blocks.count
            blocks.append(.toolUse(id: AnthropicToolInput.toolUseID(id), name: name, arguments: ""))
        case .toolCallArguments(let index, let fragment):
            if let at = open[index], case .toolUse(let id, let name, let arguments) = blocks[at] {
                blocks[at] = .toolUse(id: id, name: name, arguments: arguments + fragment)
            }
        case .toolCallEnd, .usage, .session, .upstreamStatus, .finish, .error: break
        }
    }

    var toolCallIDs: [String] {
        blocks.compactMap { if case .toolUse(let id, _, _) = $0 { id } else { nil } }
    }

    var toolCallCount: Int { toolCallIDs.count }

    private var outputEstimate: Int {
        var total = 0
        for block in blocks {
            switch block {
            case .text(let s), .thinking(let s): total += TokenEstimator.estimate(s)
            case .toolUse(_, let name, let arguments): total += TokenEstimator.estimate(name) + TokenEstimator.estimate(arguments)
            }
        }
        return max(1, total)
    }

    func body(id: String, model: String, finish: FinishReason, promptTokens: Int, completionTokens: Int?) -> [UInt8] {
        let content: [JSONValue] = blocks.map { block in
            switch block {
            case .text(let s): return ["type": "text", "text": .string(s)]
            case .thinking(let s): return ["type": "thinking", "thinking": .string(s), "signature": ""]
            case .toolUse(let id, let name, let arguments):
                return ["type": "tool_use", "id": .string(id), "name": .string(name), "input": AnthropicToolInput.value(arguments)]
            }
        }
        let stopReason: String
        if toolCallCount > 0 {
            stopReason = "tool_use"
        } else {
            switch finish {
            case .length: stopReason = "max_tokens"
            case .contentFilter: stopReason = "refusal"
            default: stopReason = "end_turn"
            }
        }
        let root: JSONValue = [
            "id": .string(id),
            "type": "message",
            "role": "assistant",
            "model": .string(model),
            "content": .array(content),
            "stop_reason": .string(stopReason),
            "stop_sequence": .null,
            "usage": [
                "input_tokens": .number(String(max(1, promptTokens))),
                "output_tokens": .number(String(max(1, completionTokens ?? outputEstimate))),
            ],
        ]
        var out: [UInt8] = []
        JSONWriter.append(root, to: &out)
        return out
    }
}
