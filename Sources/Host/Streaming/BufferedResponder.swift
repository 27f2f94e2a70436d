import Logging

/// Collects a whole answer for `stream: false` under the same timeouts as a stream (without
/// keep-alives: there is nothing to keep alive before a JSON body).
enum BufferedResponder {
    enum Outcome {
        case answer(finish: FinishReason)
        case failed(ClientError)
        case clientGone
    }

    /// Feeds every visible event to `collect` and returns how the answer ended.
    static func collect(exchange: ChatExchange, _ collect: (DriverEvent) -> Void) async -> Outcome {
        let pipeline = AnswerPipeline(exchange: exchange)
        while true {
            let (batch, due) = await exchange.next(headersSent: false)
            if batch.shutdown || Task.isCancelled {
                exchange.cancelDriver()
                return .failed(.shuttingDown)
            }
            if batch.clientGone {
                exchange.cancelDriver()
                return .clientGone
            }
            if batch.overflowed {
                // Not reached today (nothing waits on a client here), but never a busy loop.
                exchange.cancelDriver()
                return .failed(.tooSlow(budget: exchange.sink.budgetBytes))
            }
            let (events, failure) = pipeline.process(batch.events, clientHasSeenAnswer: false)
            for event in events {
                switch event {
                case .finish(.cancelled):
                    return exchange.wasCancelled ? .clientGone : .failed(.driverBroke("the driver cancelled the stream on its own"))
                case .finish(let reason):
                    return .answer(finish: reason)
                case .error(let failure):
                    return .failed(ClientError(failure))
                default:
                    collect(event)
                }
            }
            if let failure { return .failed(failure) }
            switch due {
            case .firstEventTimeout, .idleTimeout, .totalTimeout:
                exchange.cancelDriver()
                return .failed(.timeout("the upstream did not complete the answer in time"))
            case .keepAlive, .nothing:
                continue
            }
        }
    }
}
