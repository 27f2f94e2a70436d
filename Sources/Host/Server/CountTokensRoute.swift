import HTTPTypes
import Hummingbird
import NIOCore

/// `POST /v1/messages/count_tokens` → `{"input_tokens": N}`: the host's estimate of what the
/// driver would be sent, the tool protocol's prompt included for text-only drivers. No driver
/// is started.
struct CountTokensRoute: Sendable {
    let host: HostServer

    func handle(_ request: Request, context: HostRequestContext) async -> Response {
        var record = AccessRecord(requestID: context.requestID, route: "count_tokens")
        let started = NIODeadline.now()
        func finish(_ status: Int) {
            record.httpStatus = status
            record.durationMs = Double((NIODeadline.now() - started).nanoseconds) / 1e6
            record.write(to: host.logger)
        }
        func fail(_ error: ClientError) -> Response {
            record.endReason = error.endReason
            record.errorMessage = error.message
            finish(error.status)
            return HTTPResponses.anthropicError(error)
        }
        record.client = ClientClassifier.classify(headers: request.headers, request: nil)

        let body: [UInt8]
        switch await host.authorizedBody(request) {
        case .success(let bytes): body = bytes
        case .failure(let error): return fail(error)
        }
        var canonical: CanonicalRequest
        do {
            canonical = try AnthropicRequestDecoder.decode(body, requestID: context.requestID, requireMaxTokens: false)
        } catch { return fail(ClientError(error)) }
        canonical.model = host.servedMessagesModel(canonical.model)
        canonical.client = ClientClassifier.classify(headers: request.headers, request: canonical)
        record.client = canonical.client
        record.model = canonical.model
        record.toolsPresent = canonical.toolsPresent
        record.toolResults = canonical.messages.filter { $0.role == .tool }.count

        guard let driver = host.drivers.driver(for: canonical.model) else { return fail(.modelNotRouted(canonical.model)) }
        record.driver = driver.name
        do {
            let rendered = try ToolHistoryRenderer.render(canonical)
            if !driver.capabilities.nativeTools { canonical = rendered }
        } catch { return fail(ClientError(error)) }

        var out: [UInt8] = []
        JSONWriter.append(.object(JSONObject([("input_tokens", .number(String(TokenEstimator.estimate(canonical))))])), to: &out)
        record.ttfbMs = Double((NIODeadline.now() - started).nanoseconds) / 1e6
        record.endReason = .ok
        finish(200)
        return HTTPResponses.json(out)
    }
}
