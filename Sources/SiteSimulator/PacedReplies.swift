import BenchStamp
import Hummingbird
import JSONCore
import LoopExecutor
import NIOCore

/// One stamped chunk of a paced answer (`[[pace:…]]`, see BenchStamp): due at a fixed offset from
/// the start of the answer, and stamped with its send time only when it is written, so the stamp
/// is the moment the bytes left the simulator.
struct PacedChunk: Sendable {
    enum Style: Sendable {
        /// A site `text-delta` frame.
        case site
        /// An OpenAI `chat.completion.chunk` (the direct baseline route); `prefix` is its fixed head.
        case openAI(prefix: String)
    }

    let seq: Int
    let chunkBytes: Int
    let dueMs: Int
    let style: Style

    /// The SSE event, stamped now. Stamp text is `~`, digits, `@` and letters: no JSON escaping.
    func event() -> String {
        let text = ChunkStamp.text(seq: seq, size: chunkBytes)
        switch style {
        case .site: return #"data: {"type":"text-delta","id":"t1","delta":""# + text + "\"}\n\n"
        case .openAI(let prefix): return prefix + #""choices":[{"index":0,"delta":{"content":""# + text + #""},"finish_reason":null}]}"# + "\n\n"
        }
    }
}

/// Paced answers in the site's protocol: the same frames as a normal answer, with the text part
/// replaced by the schedule's stamped chunks. Fault markers do not apply to them.
enum PacedReplies {
    static func siteSteps(_ plan: ReplyPlan, pace: PaceSpec) -> [StreamStep] {
        var start = JSONObject([("type", "start"), ("messageId", .string(plan.exchangeID))])
        if let metadata = plan.metadata { start["messageMetadata"] = metadata }
        var steps: [StreamStep] = [.frame(.object(start)), .frame(["type": "start-step"]), .frame(["type": "text-start", "id": "t1"])]
        for seq in 0..<pace.chunks {
            steps.append(.paced(PacedChunk(seq: seq, chunkBytes: pace.chunkBytes, dueMs: pace.dueMs(seq), style: .site)))
        }
        steps.append(.frame(["type": "text-end", "id": "t1"]))
        steps.append(.frame(["type": "finish-step"]))
        steps.append(.frame(["type": "finish", "finishReason": "stop"]))
        let usage: JSONValue = [
            "inputTokens": JSONValue(integerLiteral: AnswerScript.inputTokens(query: plan.turn.query)),
            "outputTokens": JSONValue(integerLiteral: pace.chunks),
        ]
        steps.append(.frame(["type": "data-usage", "data": usage]))
        steps.append(.raw("data: [DONE]\n\n"))
        return steps
    }

    /// `stream:false`: every chunk's text joined, stamped when the answer is sent (after `ttft_ms`).
    static func siteJSON(_ plan: ReplyPlan, pace: PaceSpec) -> JSONValue {
        var body = JSONObject([("id", .string(plan.exchangeID))])
        if let metadata = plan.metadata { body["messageMetadata"] = metadata }
        body["parts"] = [["type": "text", "text": .string(joinedText(pace))]]
        return .object(body)
    }

    static func joinedText(_ pace: PaceSpec) -> String {
        let now = ChunkStamp.nowMicros()
        return (0..<pace.chunks).map { ChunkStamp.text(seq: $0, size: pace.chunkBytes, micros: now) }.joined()
    }
}

/// A paced answer's streamed body, run on its connection's event loop: each chunk's timer fires
/// there and the chunk is stamped and written by that same thread (see UIStreamWriter), one
/// thread per chunk instead of three (timer thread, a pool thread, the loop). The benchmark's
/// upstream then costs less of the core it shares with the load generator, and sends on time.
enum PacedAnswerBody {
    static func make(_ steps: [StreamStep], channel: any Channel) -> ResponseBody {
        let writer = UIStreamWriter(coalesce: true, channel: channel)
        let executor = EventLoopTaskExecutor(channel.eventLoop)
        return ResponseBody { body in
            try await withTaskExecutorPreference(executor) { try await writer.write(steps, to: &body) }
        }
    }
}
