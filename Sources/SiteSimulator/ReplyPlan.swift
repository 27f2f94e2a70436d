import JSONCore

/// One piece of a streamed answer, in the order it goes out.
enum StreamStep: Sendable {
    /// A UI message stream chunk: `data: <json>` and a blank line.
    case frame(JSONValue)
    /// Text that is already SSE (`data: [DONE]`, deliberately broken lines), written as is.
    case raw(String)
    /// Silence, in milliseconds.
    case pause(Int)
    /// Drop the connection here, leaving the chunked body unfinished.
    case disconnect
    /// A stamped chunk of a paced answer, written when it is due (PacedReplies).
    case paced(PacedChunk)
}

/// Turns one answered turn plus its faults into what goes on the wire: the UI message stream
/// steps, or the `stream:false` JSON. Transport concerns (CRLF, comments, split writes) are the
/// writer's; everything about *which* chunks appear is decided here.
struct ReplyPlan: Sendable {
    let turn: AnswerScript.Turn
    let exchangeID: String
    let faults: Faults
    let deltaDelayMs: Int

    static let errorText = "simulated upstream failure"
    static let toolName = "web_search"

    var answer: String { AnswerScript.reply(to: turn) }
    var toolCallID: String { "call_" + exchangeID.prefix(8) }
    var toolInput: JSONValue { ["query": .string(String(AnswerScript.collapseWhitespace(turn.query).prefix(100)))] }

    /// `messageMetadata` as the site spells it in this request's variant; nil for `messageid-only`.
    var metadata: JSONValue? {
        if faults.has(.messageIDOnly) { return nil }
        if faults.has(.sessionIDsSnake) { return ["session_id": .string(turn.sessionID), "exchange_id": .string(exchangeID)] }
        return ["sessionId": .string(turn.sessionID), "exchangeId": .string(exchangeID)]
    }

    // MARK: streamed

    func streamSteps() -> [StreamStep] {
        var steps: [StreamStep] = []
        if faults.has(.slowFirst) { steps.append(.pause(faults.number(.slowFirst))) }
        var start = JSONObject([("type", "start"), ("messageId", .string(exchangeID))])
        if let metadata { start["messageMetadata"] = metadata }
        steps.append(.frame(.object(start)))
        steps.append(.frame(["type": "start-step"]))
        if faults.has(.reasoning) { steps += reasoningSteps() }

        let finishReason: String
        let outputTokens: Int
        if faults.has(.toolInput) {
            steps += toolInputSteps()
            (finishReason, outputTokens) = ("tool-calls", 2)
        } else {
            let (textSteps, complete) = textSteps()
            steps += textSteps
            // The body ends here for the faults that break the stream off.
            if !complete { return withGarbage(steps) }
            (finishReason, outputTokens) = ("stop", AnswerScript.deltas(answer).count)
        }
        steps.append(.frame(["type": "finish-step"]))
        steps.append(.frame(faults.has(.noFinishReason) ? ["type": "finish"] : ["type": "finish", "finishReason": .string(finishReason)]))
        if !faults.has(.noUsage) {
            let usage: JSONValue = [
                "inputTokens": JSONValue(integerLiteral: AnswerScript.inputTokens(query: turn.query)),
                "outputTokens": JSONValue(integerLiteral: outputTokens),
            ]
            steps.append(.frame(["type": "data-usage", "data": usage]))
        }
        steps.append(.raw("data: [DONE]\n\n"))
        return withGarbage(steps)
    }

    /// The text part; `complete` is false when a fault ended the stream inside it.
    private func textSteps() -> (steps: [StreamStep], complete: Bool) {
        var steps: [StreamStep] = [.frame(["type": "text-start", "id": "t1"])]
        let deltas = AnswerScript.deltas(answer)
        for (i, delta) in deltas.enumerated() {
            if let cut = cutOff(afterDeltas: i) { return (steps + cut, false) }
            if i > 0, deltaDelayMs > 0 { steps.append(.pause(deltaDelayMs)) }
            if i == 2, faults.has(.stall) { steps.append(.pause(faults.number(.stall))) }
            steps.append(.frame(["type": "text-delta", "id": "t1", "delta": .string(delta)]))
        }
        if let cut = cutOff(afterDeltas: deltas.count) { return (steps + cut, false) }
        if faults.has(.noFinish) { return (steps, false) }
        steps.append(.frame(["type": "text-end", "id": "t1"]))
        return (steps, true)
    }

    /// How the stream ends when a breaking fault fires after `sent` deltas (nil: keep going).
    private func cutOff(afterDeltas sent: Int) -> [StreamStep]? {
        if faults.has(.disconnect), sent == faults.number(.disconnect) { return [.disconnect] }
        if faults.has(.errorChunk), sent == faults.number(.errorChunk) {
            return [.frame(["type": "error", "errorText": .string(Self.errorText)])]
        }
        return nil
    }

    private func reasoningSteps() -> [StreamStep] {
        var steps: [StreamStep] = [.frame(["type": "reasoning-start", "id": "r1"])]
        for (i, delta) in AnswerScript.deltas(AnswerScript.reasoning(for: turn)).enumerated() {
            if i > 0, deltaDelayMs > 0 { steps.append(.pause(deltaDelayMs)) }
            steps.append(.frame(["type": "reasoning-delta", "id": "r1", "delta": .string(delta)]))
        }
        steps.append(.frame(["type": "reasoning-end", "id": "r1"]))
        return steps
    }

    /// A native tool call (the real site is not known to send one; drivers must still cope).
    private func toolInputSteps() -> [StreamStep] {
        let inputText = toolInput.serialized
        let half = inputText.index(inputText.startIndex, offsetBy: inputText.count / 2)
        let id = JSONValue.string(toolCallID)
        return [
            .frame(["type": "tool-input-start", "toolCallId": id, "toolName": .string(Self.toolName)]),
            .frame(["type": "tool-input-delta", "toolCallId": id, "inputTextDelta": .string(String(inputText[..<half]))]),
            .frame(["type": "tool-input-delta", "toolCallId": id, "inputTextDelta": .string(String(inputText[half...]))]),
            .frame(["type": "tool-input-available", "toolCallId": id, "toolName": .string(Self.toolName), "input": toolInput]),
        ]
    }

    /// `garbage`: after every frame but the last, alternately a broken `data:` line and a chunk of
    /// an unknown type. The valid frames stay complete and in order.
    private func withGarbage(_ steps: [StreamStep]) -> [StreamStep] {
        guard faults.has(.garbage) else { return steps }
        var out: [StreamStep] = []
        var inserted = 0
        for (i, step) in steps.enumerated() {
            out.append(step)
            guard case .frame = step, i < steps.count - 1 else { continue }
            out.append(inserted % 2 == 0 ? .raw("data: {not json\n\n") : .frame(["type": "x-unknown", "payload": [1, 2]]))
            inserted += 1
        }
        return out
    }

    // MARK: not streamed

    /// The `stream:false` answer: the same content as parts.
    func jsonBody() -> JSONValue {
        var parts: [JSONValue] = []
        if faults.has(.reasoning) { parts.append(["type": "reasoning", "text": .string(AnswerScript.reasoning(for: turn))]) }
        if faults.has(.toolInput) {
            parts.append(["type": "tool-input", "tool_name": .string(Self.toolName), "tool_input": toolInput])
        } else if faults.has(.errorChunk) {
            let partial = AnswerScript.deltas(answer).prefix(faults.number(.errorChunk)).joined()
            parts.append(["type": "text", "text": .string(partial)])
            parts.append(["type": "error", "error_text": .string(Self.errorText)])
        } else {
            parts.append(["type": "text", "text": .string(answer)])
        }
        var body = JSONObject([("id", .string(exchangeID))])
        if let metadata { body["messageMetadata"] = metadata }
        body["parts"] = .array(parts)
        return .object(body)
    }
}
