import JSONCore

/// The site's answer to `stream: false`: one JSON object with `parts`. Decoded into the same
/// events as a stream so the driver has a single path to the host. Some deployments answer
/// `stream: false` with an event stream anyway; that is detected from the body and decoded as one.
public enum NonStreamAnswer {
    /// Events for the whole answer, ending in exactly one terminal event.
    public static func decode(body: [UInt8], upstreamStatus: Int = 0) -> [AnswerEvent] {
        if looksLikeEventStream(body) { return decodeEventStream(body, upstreamStatus: upstreamStatus) }
        func failure(_ message: String) -> [AnswerEvent] {
            [.failure(SiteFailure(kind: .upstream, message: message, upstreamStatus: upstreamStatus))]
        }
        guard let json = try? JSONParser.parse(body), case .object = json else {
            return failure("the site's answer is neither JSON nor an event stream")
        }

        var events: [AnswerEvent] = []
        let ids = UIChunkDecoder.sessionIDs(in: json)
        if let session = ids.session ?? ids.exchange {
            events.append(.session(id: session, exchange: ids.exchange ?? json.firstString("messageId", "id") ?? session))
        }
        guard let parts = json["parts"]?.arrayValue else {
            if let text = json.firstString("text") {
                return events + [.text(text), .finish(.stop)]
            }
            let message = json["error"]?.firstString("message") ?? json.firstString("error", "errorText", "error_text", "message", "msg")
            return events + failure(message.map { $0.collapsingWhitespace().truncated(to: SiteResponseClassifier.maxExcerpt) } ?? "the site's answer has no parts")
        }

        var toolCount = 0
        for part in parts {
            switch part["type"]?.stringValue ?? "" {
            case "text":
                if let text = part.firstString("text") { events.append(.text(text)) }
            case "reasoning":
                if let text = part.firstString("text", "reasoning") { events.append(.reasoning(text)) }
            case "tool-input", "tool-call", "tool-input-available":
                let input = part["tool_input"] ?? part["input"] ?? part["args"] ?? .object(JSONObject())
                let index = toolCount
                toolCount += 1
                events += [
                    .toolCallStart(index: index, id: part.firstString("tool_call_id", "toolCallId", "id") ?? "", name: part.firstString("tool_name", "toolName", "name") ?? ""),
                    .toolCallArguments(index: index, UIChunkDecoder.argumentsText(input)),
                    .toolCallEnd(index: index),
                ]
            case "error":
                let text = part.firstString("error_text", "errorText", "error", "message") ?? "the site reported an error without a message"
                let kind: SiteFailureKind = SiteErrorText.mentionsUnknownSession(text) ? .sessionNotFound : .upstream
                return events + [.failure(SiteFailure(kind: kind, message: text.truncated(to: UIChunkDecoder.maxErrorText), upstreamStatus: upstreamStatus))]
            default:
                continue  // step markers, sources, files: not part of the answer text
            }
        }

        if let usage = json["usage"] ?? json["messageMetadata"]?["usage"], let counts = UIChunkDecoder.tokenCounts(usage) {
            events.append(.usage(prompt: counts.input ?? 0, completion: counts.output ?? 0))
        }
        switch json.firstString("finishReason", "finish_reason")?.lowercased() {
        case "length": events.append(.finish(.length))
        case "content-filter", "content_filter": events.append(.finish(.contentFilter))
        case "error": return events + failure("the site ended the answer with an error")
        default: events.append(.finish(toolCount > 0 ? .toolCalls : .stop))
        }
        return events
    }

    /// A body that starts (after a BOM and blank space) with an SSE field or comment.
    public static func looksLikeEventStream(_ body: [UInt8]) -> Bool {
        var start = 0
        if body.count >= 3, body[0] == 0xEF, body[1] == 0xBB, body[2] == 0xBF { start = 3 }
        while start < body.count, [0x20, 0x09, 0x0A, 0x0D].contains(body[start]) { start += 1 }
        let head = body[start...]
        return head.starts(with: "data:".utf8) || head.starts(with: "event:".utf8) || head.starts(with: ":".utf8)
            || head.starts(with: "id:".utf8)
    }

    static func decodeEventStream(_ body: [UInt8], upstreamStatus: Int) -> [AnswerEvent] {
        var reader = SSEReader()
        var translator = SiteStreamTranslator(upstreamStatus: upstreamStatus)
        var events: [AnswerEvent] = []
        do {
            for event in try reader.feed(body) { events += translator.consume(event) }
        } catch {
            if !translator.isTerminated { events.append(.failure(SiteFailure(kind: .upstream, message: error.description, upstreamStatus: upstreamStatus))) }
            return events
        }
        for event in reader.finish() { events += translator.consume(event) }
        events += translator.endOfInput()
        return events
    }
}
