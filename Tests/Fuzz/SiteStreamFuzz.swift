// libFuzzer harness for the site's stream path: SSEReader → UIChunkDecoder → SiteStreamTranslator,
// plus the non-stream decoder, the response classifier and the request side on the same bytes.
// Not part of the package: Tests/Fuzz/run.sh compiles this file into one module together with
// Sources/JSONCore and Sources/SiteProtocol (their `import JSONCore` lines removed) and runs it.
// Every invariant is checked with `invariant`, which traps: libFuzzer reports it as a crash and
// saves the input.

private func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("invariant violated: " + message()) }
}

/// Reads `bytes` in pieces of the given sizes, the way the driver does. Returns the events and
/// whether the reader refused the stream (then the events end in the driver's failure).
private func runStream(_ bytes: [UInt8], pieces: [Int]) -> (events: [AnswerEvent], readerFailed: Bool) {
    var reader = SSEReader(maxLineBytes: 1024, maxEventBytes: 2048)  // small, so the limits are reached
    var translator = SiteStreamTranslator(upstreamStatus: 200)
    var events: [AnswerEvent] = []
    var offset = 0
    for size in pieces {
        let end = min(bytes.count, offset + size)
        do {
            for event in try reader.feed(Array(bytes[offset..<end])) { events += translator.consume(event) }
        } catch {
            if !translator.isTerminated { events.append(.failure(SiteFailure(kind: .upstream, message: error.description, upstreamStatus: 200))) }
            return (events, true)
        }
        offset = end
    }
    for event in reader.finish() { events += translator.consume(event) }
    events += translator.endOfInput()
    invariant(translator.endOfInput().isEmpty, "a second endOfInput produced events")
    return (events, false)
}

/// What the host relies on, for any event list that ends an answer.
private func checkAnswer(_ events: [AnswerEvent], _ what: String) {
    let terminals = events.indices.filter { events[$0].isTerminal }
    invariant(terminals.count == 1, "\(what): \(terminals.count) terminal events")
    invariant(terminals.first == events.count - 1, "\(what): the terminal event is not the last")
    var sessions = 0
    var started = Set<Int>()
    var ended = Set<Int>()
    for (k, event) in events.enumerated() {
        switch event {
        case .session:
            sessions += 1
        case .toolCallStart(let index, _, _):
            invariant(index == started.count, "\(what): tool index \(index) out of order")
            started.insert(index)
        case .toolCallArguments(let index, let text):
            invariant(started.contains(index) && !ended.contains(index), "\(what): arguments for call \(index) outside its start/end")
            invariant(!text.isEmpty, "\(what): empty arguments fragment")
        case .toolCallEnd(let index):
            invariant(started.contains(index) && !ended.contains(index), "\(what): end for call \(index) outside its start")
            ended.insert(index)
        case .usage:
            invariant(k + 1 < events.count && events[k + 1].isTerminal, "\(what): usage not right before the terminal")
        case .text(let s), .reasoning(let s):
            invariant(!s.isEmpty, "\(what): empty text event")
        case .failure(let f):
            invariant(!f.message.isEmpty, "\(what): failure without a message")
        case .finish, .upstreamStatus:
            break
        }
    }
    invariant(sessions <= 1, "\(what): \(sessions) session events")
    if case .finish? = events.last { invariant(started == ended, "\(what): finished with open tool calls") }
}

/// Deterministic piece sizes (1–7 bytes) from the input itself, so a crash reproduces.
private func pieceSizes(for bytes: [UInt8]) -> [Int] {
    var state: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes.prefix(64) { state = (state ^ UInt64(b)) &* 0x100_0000_01b3 }
    var sizes: [Int] = []
    var total = 0
    while total < bytes.count {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let n = Int(state >> 61) + 1
        sizes.append(n)
        total += n
    }
    return sizes
}

@_cdecl("LLVMFuzzerTestOneInput")
public func siteStreamFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))

    // The stream, whole and in small pieces: same answer, one terminal, sane tool calls.
    let whole = runStream(bytes, pieces: [max(1, bytes.count)])
    let split = runStream(bytes, pieces: pieceSizes(for: bytes))
    checkAnswer(whole.events, "whole stream")
    checkAnswer(split.events, "split stream")
    // A refused line drops the events completed earlier in the same piece, so only streams the
    // reader accepted must agree exactly.
    if !whole.readerFailed && !split.readerFailed {
        invariant(whole.events == split.events, "splitting the stream changed the events")
    }

    // The same bytes as a non-stream answer body.
    checkAnswer(NonStreamAnswer.decode(body: bytes, upstreamStatus: 200), "non-stream answer")

    // As an error response: short messages only, never a crash.
    let status = bytes.first.map { [200, 401, 404, 429, 500, 502][Int($0) % 6] } ?? 500
    if let failure = SiteResponseClassifier.classify(status: status, contentType: bytes.count % 2 == 0 ? "application/json" : nil, body: bytes, retryAfter: String(decoding: bytes.prefix(40), as: UTF8.self), nowMs: 1_700_000_000_000) {
        invariant(failure.message.count <= 260, "classifier message of \(failure.message.count) characters")
        invariant(failure.retryAfterMs >= 0, "negative retry-after")
    }

    // As a login answer: errors never carry the body.
    do {
        _ = try TokenAnswer.parse(body: bytes, tokenField: "data.token", nowMs: 1_700_000_000_000)
    } catch {
        invariant(error.description.count < 80, "token error carries too much")
    }

    // As a canonical request: digests and the request body never crash.
    if let request = try? JSONParser.parse(bytes), let messages = request["messages"]?.arrayValue {
        _ = ConversationKey.lookupDigest(messages)
        invariant(ConversationKey.storeDigest(messages).utf8.count == 64, "digest length")
        var options = SiteRequestOptions()
        options.maxInputTokens = 200
        options.reservedOutputTokens = 20
        let start = ConversationKey.newMessagesStart(messages)
        if let prepared = try? SiteRequestBuilder.prepare(request: request, options: options, continuation: start > 0 ? SiteContinuation(sessionID: "s", exchangeID: "e", newMessagesStart: start) : nil) {
            invariant((try? JSONParser.parse(prepared.body)) != nil, "the request body is not JSON")
        }
    }
    return 0
}
