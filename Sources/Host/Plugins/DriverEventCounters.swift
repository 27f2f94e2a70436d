import Prometheus

/// `mix2api_driver_events_total{driver,kind}`: one counter per event kind, resolved when the driver
/// loads, so counting an emit is one atomic add on the driver's thread.
struct DriverEventCounters: Sendable {
    private let delta, reasoning, toolCall, toolCallArgs, toolCallEnd, usage, session, upstreamStatus, finish, error: Counter

    init(driver: String, metrics: HostMetrics) {
        func c(_ kind: String) -> Counter { metrics.driverEvents(driver: driver, kind: kind) }
        delta = c("delta")
        reasoning = c("reasoning")
        toolCall = c("tool_call")
        toolCallArgs = c("tool_call_args")
        toolCallEnd = c("tool_call_end")
        usage = c("usage")
        session = c("session")
        upstreamStatus = c("upstream_status")
        finish = c("finish")
        error = c("error")
    }

    func count(_ event: DriverEvent) {
        switch event {
        case .text: delta.increment()
        case .reasoning: reasoning.increment()
        case .toolCallStart: toolCall.increment()
        case .toolCallArguments: toolCallArgs.increment()
        case .toolCallEnd: toolCallEnd.increment()
        case .usage: usage.increment()
        case .session: session.increment()
        case .upstreamStatus: upstreamStatus.increment()
        case .finish: finish.increment()
        case .error: error.increment()
        }
    }
}
