/// Driver events → the events an encoder should see: the tool stage in between, and the one
/// corrective retry the tool protocol allows (only while the client has seen nothing of the
/// answer; then the same exchange asks the driver again with the reason appended).
final class AnswerPipeline: @unchecked Sendable {
    let exchange: ChatExchange
    private var stage: ToolStage
    private var retried = false

    init(exchange: ChatExchange) {
        self.exchange = exchange
        self.stage = ToolStage(request: exchange.request, nativeTools: exchange.driver.capabilities.nativeTools)
    }

    /// The events to encode; a ClientError when the answer must end with an adapter error.
    /// `clientHasSeenAnswer`: bytes of this answer already reached the client (then a retry
    /// would show two answers, so a broken call is an error instead).
    func process(_ events: [DriverEvent], clientHasSeenAnswer: Bool) -> (events: [DriverEvent], failure: ClientError?) {
        var out: [DriverEvent] = []
        for event in events {
            switch stage.process(event, into: &out) {
            case .proceed:
                continue
            case .stopUpstream:
                exchange.cancelDriver()
                return (out, nil)
            case .retry(let reason):
                if !retried, !clientHasSeenAnswer {
                    retried = true
                    var request = exchange.request
                    request.messages.append(.init(role: .user, content: "[The previous answer was not usable: \(reason)]"))
                    if exchange.restart(with: request) {
                        stage = ToolStage(request: request, nativeTools: exchange.driver.capabilities.nativeTools)
                        // Nothing of the abandoned answer goes out; the new stream starts clean.
                        return ([], nil)
                    }
                }
                exchange.cancelDriver()
                return (out, ClientError(status: 502, type: "upstream_error", code: "tool_call_invalid", message: reason, endReason: .adapterError))
            }
        }
        return (out, nil)
    }
}
