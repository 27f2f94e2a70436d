/// What the simulated model says. Deterministic, so tests can predict every answer from the
/// request and its session's earlier queries. This is the hook for richer behaviour: add a case
/// to `reply(to:)` and the transports pick it up unchanged.
enum AnswerScript {
    /// The facts an answer may depend on.
    struct Turn: Sendable {
        var query: String
        var sessionID: String
        var turn: Int
        /// The session's earlier queries, oldest first (the site keeps the history server-side).
        var earlier: [String] = []
    }

    static let maxEchoedCharacters = 300

    /// The answer text for one turn.
    static func reply(to turn: Turn) -> String {
        // A prompt with the tool protocol gets a model that follows it (ToolFollowingModel).
        if let answer = ToolFollowingModel.reply(query: turn.query, earlier: turn.earlier) {
            return answer
        }
        if turn.query.contains("<tool_result") {
            return "I received the tool result."
        }
        let echoed = collapseWhitespace(String(turn.query.prefix(maxEchoedCharacters)))
        return "Turn \(turn.turn) of session \(turn.sessionID.prefix(8)): you said: \(echoed)"
    }

    /// Hidden "thinking" for the `reasoning` fault.
    static func reasoning(for turn: Turn) -> String {
        "The user wrote \(turn.query.count) characters on turn \(turn.turn); I will echo them."
    }

    /// Runs of whitespace (newlines included) become one space; ends are trimmed.
    static func collapseWhitespace(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// Word-sized deltas: each word keeps the whitespace after it, so the pieces join back to
    /// exactly `text`.
    static func deltas(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        var inSpace = false
        for ch in text {
            if ch.isWhitespace {
                inSpace = true
            } else if inSpace {
                pieces.append(current)
                current = ""
                inSpace = false
            }
            current.append(ch)
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    /// Prompt-side token estimate the site reports in `data-usage`.
    static func inputTokens(query: String) -> Int { query.count / 4 + 1 }
}
