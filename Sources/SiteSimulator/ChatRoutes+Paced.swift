import BenchStamp
import HTTPTypes
import Hummingbird

extension ChatRoutes {
    /// The benchmark's timed answer when the query carries a `[[pace:…]]` marker; nil otherwise.
    func pacedAnswer(_ plan: ReplyPlan, query: String, stream: Bool, context: SimContext) async -> Response? {
        let pace: PaceSpec
        do {
            guard let found = try PaceSpec.find(in: query) else { return nil }
            pace = found
        } catch {
            return HTTPReplies.error(.badRequest, "site-sim: \(error)")
        }
        guard stream else {
            if pace.ttftMs > 0 { try? await Task.sleep(for: .milliseconds(pace.ttftMs)) }
            return HTTPReplies.json(PacedReplies.siteJSON(plan, pace: pace))
        }
        var headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        headers[HTTPReplies.uiMessageStreamHeader] = "v1"
        return Response(status: .ok, headers: headers, body: PacedAnswerBody.make(PacedReplies.siteSteps(plan, pace: pace), channel: context.channel))
    }
}
