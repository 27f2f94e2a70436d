import BenchStamp
import Foundation
import HTTPTypes
import Hummingbird
import JSONCore

/// `POST /v1/chat/completions`: the simulator's model answered as an OpenAI-compatible provider,
/// with no site protocol and no gateway in between. It is the benchmark's "direct" baseline, so it
/// serves the same paced, stamped chunks (`[[pace:…]]` in the last user message; without one, the
/// default schedule: 20 chunks at once). No auth: a loopback test double.
struct OpenAIRoutes: Sendable {
    func register(on router: Router<SimContext>) {
        router.post("/v1/chat/completions") { request, context in await answer(request, context: context) }
    }

    func answer(_ request: Request, context: SimContext) async -> Response {
        guard let bytes = await HTTPReplies.readBody(request), let body = HTTPReplies.parseJSON(bytes), body.objectValue != nil else {
            return Self.error("body must be a JSON object")
        }
        guard let model = body["model"]?.stringValue, !model.isEmpty else { return Self.error("model is required (a non-empty string)", param: "model") }
        guard let messages = body["messages"]?.arrayValue, !messages.isEmpty else {
            return Self.error("messages is required (a non-empty array)", param: "messages")
        }
        let lastUser = messages.last { $0["role"]?.stringValue == "user" }.map(Self.text) ?? ""
        let pace: PaceSpec
        do { pace = try PaceSpec.find(in: lastUser) ?? PaceSpec() } catch { return Self.error("\(error)", param: "messages") }
        let stream = body["stream"]?.boolValue ?? false
        let id = "chatcmpl-sim-" + UUID().uuidString.prefix(8).lowercased()
        let created = Int(Date().timeIntervalSince1970)
        let modelJSON = JSONValue.string(model).serialized

        guard stream else {
            if pace.ttftMs > 0 { try? await Task.sleep(for: .milliseconds(pace.ttftMs)) }
            let text = PacedReplies.joinedText(pace)
            let answer: JSONValue = [
                "id": .string(id), "object": "chat.completion", "created": JSONValue(integerLiteral: created), "model": .string(model),
                "choices": [["index": 0, "message": ["role": "assistant", "content": .string(text)], "finish_reason": "stop"]],
                "usage": ["prompt_tokens": 1, "completion_tokens": JSONValue(integerLiteral: pace.chunks), "total_tokens": JSONValue(integerLiteral: pace.chunks + 1)],
            ]
            return HTTPReplies.json(answer)
        }
        let prefix = #"data: {"id":""# + id + #"","object":"chat.completion.chunk","created":"# + String(created) + #","model":"# + modelJSON + ","
        var steps: [StreamStep] = [.raw(prefix + #""choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"# + "\n\n")]
        for seq in 0..<pace.chunks {
            steps.append(.paced(PacedChunk(seq: seq, chunkBytes: pace.chunkBytes, dueMs: pace.dueMs(seq), style: .openAI(prefix: prefix))))
        }
        steps.append(.raw(prefix + #""choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\n"))
        steps.append(.raw("data: [DONE]\n\n"))
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: PacedAnswerBody.make(steps, channel: context.channel))
    }

    /// Message content as text: a string, or the text parts of a content array.
    static func text(_ message: JSONValue) -> String {
        if let s = message["content"]?.stringValue { return s }
        return (message["content"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined()
    }

    static func error(_ message: String, param: String? = nil) -> Response {
        HTTPReplies.json(["error": ["message": .string(message), "type": "invalid_request_error", "param": param.map(JSONValue.string) ?? .null]], status: .badRequest)
    }
}
