import JSONCore

/// Turns the site's chunks into answer events, keeping the promises the host relies on:
/// session ids once and early, tool calls indexed 0, 1, 2… with arguments never duplicated, usage
/// right before the finish, and exactly one terminal event — where a truncated stream, an error
/// chunk or an abort is a failure and never a normal stop.
public struct SiteStreamTranslator: Sendable {
    /// This many malformed payloads in a row (no valid chunk between them) end the answer: the site
    /// is sending something other than its protocol, and waiting longer only hides that.
    public static let maxMalformedRun = 20

    /// The HTTP status the stream came with, reported in failures.
    public let upstreamStatus: Int
    /// Payloads that were not JSON objects, over the whole stream (for logs and counters).
    public private(set) var malformedCount = 0
    /// Events that arrived after the terminal one and were dropped.
    public private(set) var droppedAfterTerminal = 0
    /// A terminal event (finish or failure) has been returned; nothing more will be.
    public private(set) var isTerminated = false

    private var malformedRun = 0
    /// `finish` came, but the site sends `data-usage` after it: the terminal waits for usage,
    /// `[DONE]` or the end of input, whichever comes first.
    private var pendingFinish: AnswerFinish?

    private var sessionID: String?
    private var exchangeID: String?
    /// `messageId` stands in for the exchange id when the site sends no `exchangeId`.
    private var messageID: String?
    private var sessionEmitted = false

    private var promptTokens: Int?
    private var completionTokens: Int?

    private struct ToolCall {
        var index: Int?
        var name: String
        /// The arguments text emitted so far (deltas), to complete rather than repeat it.
        var arguments = ""
        var ended = false
    }
    private var tools: [String: ToolCall] = [:]
    private var toolCount = 0

    public init(upstreamStatus: Int = 0) {
        self.upstreamStatus = upstreamStatus
    }

    /// One event from the SSE reader.
    public mutating func consume(_ event: SSEEvent) -> [AnswerEvent] {
        // Not part of the UI-message protocol, but a common way for a backend to fail mid-stream.
        if event.event == "error" {
            let text = (try? JSONParser.parse(event.data)).flatMap { $0.firstString("errorText", "message", "error") } ?? event.data.collapsingWhitespace()
            return translate(.error(text.isEmpty ? "the site reported an error without a message" : text.truncated(to: UIChunkDecoder.maxErrorText)))
        }
        return consume(payload: event.data)
    }

    /// One `data:` payload.
    public mutating func consume(payload: String) -> [AnswerEvent] {
        var events: [AnswerEvent] = []
        for chunk in UIChunkDecoder.decode(payload) { events += translate(chunk) }
        return events
    }

    public mutating func translate(_ chunk: SiteChunk) -> [AnswerEvent] {
        guard !isTerminated else {
            droppedAfterTerminal += 1
            return []
        }
        if case .malformed = chunk {
            malformedCount += 1
            malformedRun += 1
            if malformedRun > Self.maxMalformedRun {
                // The answer itself was complete; only what followed it is garbage.
                if pendingFinish != nil { return flushFinish() }
                return fail(.upstream, "garbage from the upstream: \(malformedRun) payloads in a row were not the site's protocol")
            }
            return []
        }
        malformedRun = 0
        // After `finish` only usage (and the end marker) still matter: the answer itself is complete.
        if pendingFinish != nil {
            switch chunk {
            case .usage(let input, let output):
                remember(input: input, output: output)
                return flushFinish()
            case .done: return flushFinish()
            case .start(let m, let s, let e): return noteIDs(messageID: m, sessionID: s, exchangeID: e)
            case .messageMetadata(let s, let e): return noteIDs(messageID: nil, sessionID: s, exchangeID: e)
            case .ignored: return []
            default:
                droppedAfterTerminal += 1
                return []
            }
        }
        switch chunk {
        case .start(let messageID, let session, let exchange):
            return noteIDs(messageID: messageID, sessionID: session, exchangeID: exchange)
        case .messageMetadata(let session, let exchange):
            return noteIDs(messageID: nil, sessionID: session, exchangeID: exchange)
        case .textDelta(let text):
            return text.isEmpty ? [] : [.text(text)]
        case .reasoningDelta(let text):
            return text.isEmpty ? [] : [.reasoning(text)]
        case .toolInputStart(let id, let name):
            return toolStart(id: id, name: name)
        case .toolInputDelta(let id, let fragment):
            return toolDelta(id: id, fragment: fragment)
        case .toolInputAvailable(let id, let name, let input):
            return toolAvailable(id: id, name: name, input: input)
        case .usage(let input, let output):
            remember(input: input, output: output)
            return []
        case .finish(let reason):
            return finish(reason: reason)
        case .error(let text):
            let kind: SiteFailureKind = SiteErrorText.mentionsUnknownSession(text) ? .sessionNotFound : .upstream
            return fail(kind, text)
        case .abort:
            return fail(.upstream, "the site aborted the answer")
        case .done:
            return fail(.upstream, "the site's stream ended without a finish")
        case .ignored, .malformed:
            return []
        }
    }

    /// The byte stream ended. Without a `finish` the answer is truncated, which is a failure.
    public mutating func endOfInput() -> [AnswerEvent] {
        if isTerminated { return [] }
        if pendingFinish != nil { return flushFinish() }
        return fail(.upstream, "the site's stream ended without a finish")
    }

    // MARK: - Session ids

    private mutating func noteIDs(messageID: String?, sessionID session: String?, exchangeID exchange: String?) -> [AnswerEvent] {
        if sessionID == nil { sessionID = session }
        if exchangeID == nil { exchangeID = exchange }
        if self.messageID == nil { self.messageID = messageID }
        guard !sessionEmitted else { return [] }
        // Only the session id is sent back; without one the exchange id stands in for it (the doc's
        // fallback). A bare messageId is not promoted: it names an answer, not a conversation.
        guard let id = sessionID ?? exchangeID else { return [] }
        sessionEmitted = true
        return [.session(id: id, exchange: exchangeID ?? self.messageID ?? id)]
    }

    // MARK: - Tool calls

    private mutating func newIndex() -> Int {
        defer { toolCount += 1 }
        return toolCount
    }

    private mutating func toolStart(id: String, name: String) -> [AnswerEvent] {
        if var call = tools[id] {
            // A start after deltas that arrived without one: now the call has a name.
            guard call.index == nil, !call.ended else { return [] }
            let index = newIndex()
            call.index = index
            call.name = name
            tools[id] = call
            var events: [AnswerEvent] = [.toolCallStart(index: index, id: id, name: name)]
            if !call.arguments.isEmpty { events.append(.toolCallArguments(index: index, call.arguments)) }
            return events
        }
        let index = newIndex()
        tools[id] = ToolCall(index: index, name: name)
        return [.toolCallStart(index: index, id: id, name: name)]
    }

    private mutating func toolDelta(id: String, fragment: String) -> [AnswerEvent] {
        guard !fragment.isEmpty else { return [] }
        guard var call = tools[id] else {
            // No start yet, so no name to announce: hold the fragment until a start or the input comes.
            tools[id] = ToolCall(index: nil, name: "", arguments: fragment)
            return []
        }
        guard !call.ended else { return [] }
        call.arguments += fragment
        tools[id] = call
        guard let index = call.index else { return [] }
        return [.toolCallArguments(index: index, fragment)]
    }

    private mutating func toolAvailable(id: String, name: String, input: JSONValue) -> [AnswerEvent] {
        let full = UIChunkDecoder.argumentsText(input)
        guard var call = tools[id], let index = call.index else {
            // Nothing announced yet (held deltas are superseded by the complete input).
            let index = newIndex()
            tools[id] = ToolCall(index: index, name: name, arguments: full, ended: true)
            return [.toolCallStart(index: index, id: id, name: name), .toolCallArguments(index: index, full), .toolCallEnd(index: index)]
        }
        guard !call.ended else { return [] }
        var events: [AnswerEvent] = []
        if call.arguments.isEmpty {
            events.append(.toolCallArguments(index: index, full))
        } else if (try? JSONParser.parse(call.arguments)) == nil, full.hasPrefix(call.arguments), full.count > call.arguments.count {
            // The deltas stopped short of the complete input: send only what is missing.
            events.append(.toolCallArguments(index: index, String(full.dropFirst(call.arguments.count))))
        }
        // Otherwise the deltas already carried the arguments (possibly spaced differently): resending
        // the input would duplicate them, so the call just ends.
        call.arguments = full
        call.ended = true
        tools[id] = call
        events.append(.toolCallEnd(index: index))
        return events
    }

    /// Calls still open when the answer finishes are closed in index order; calls that never got a
    /// name cannot be announced and are dropped.
    private mutating func closeOpenTools() -> [AnswerEvent] {
        let open = tools.filter { $0.value.index != nil && !$0.value.ended }.sorted { $0.value.index! < $1.value.index! }
        for (id, _) in open { tools[id]!.ended = true }
        return open.map { .toolCallEnd(index: $0.value.index!) }
    }

    // MARK: - Usage and the terminal event

    private mutating func remember(input: Int?, output: Int?) {
        if let input { promptTokens = input }
        if let output { completionTokens = output }
    }

    private mutating func finish(reason: String?) -> [AnswerEvent] {
        let finish: AnswerFinish
        switch reason?.lowercased() {
        case "length": finish = .length
        case "content-filter", "content_filter": finish = .contentFilter
        case "tool-calls", "tool_calls": finish = .toolCalls
        case "error": return fail(.upstream, "the site ended the answer with an error")
        default:
            // `stop`, `other` and builds that send no reason. Calls in the answer make it a tool-call
            // finish whatever the reason says: that is what tells the client to run them.
            finish = toolCount > 0 ? .toolCalls : .stop
        }
        var events = closeOpenTools()
        pendingFinish = finish
        // Usage already known: nothing to wait for.
        if promptTokens != nil || completionTokens != nil { events += flushFinish() }
        return events
    }

    private mutating func flushFinish() -> [AnswerEvent] {
        guard let finish = pendingFinish else { return [] }
        var events: [AnswerEvent] = []
        if promptTokens != nil || completionTokens != nil {
            events.append(.usage(prompt: promptTokens ?? 0, completion: completionTokens ?? 0))
        }
        events.append(.finish(finish))
        pendingFinish = nil
        isTerminated = true
        return events
    }

    private mutating func fail(_ kind: SiteFailureKind, _ message: String) -> [AnswerEvent] {
        isTerminated = true
        pendingFinish = nil
        return [.failure(SiteFailure(kind: kind, message: message, upstreamStatus: upstreamStatus))]
    }
}

/// Recognising what the site's error texts mean, shared by the stream and the status classifier.
enum SiteErrorText {
    static func mentionsUnknownSession(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.contains("session not found") || lower.contains("session_not_found") || lower.contains("session-not-found")
            || lower.contains("unknown session")
    }

    static func mentionsContextLength(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.contains("context length") || lower.contains("context_length") || lower.contains("maximum context")
            || lower.contains("too many tokens") || lower.contains("context window")
    }
}
