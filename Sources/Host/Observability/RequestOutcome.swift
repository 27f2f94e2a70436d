/// A finished request's metrics, from its access record: the one place they are counted, so the
/// access log and `/metrics` (and with them `mix2api slo` and the Prometheus rules) always agree.
enum RequestOutcome {
    static func record(_ r: AccessRecord, into metrics: HostMetrics) {
        let client = r.client.rawValue
        metrics.requests(route: r.route, client: client, stream: r.stream, tools: r.tools, endReason: r.endReason.rawValue, status: r.httpStatus)
            .increment()
        if r.streamCut { metrics.streamCuts(route: r.route, client: client, endReason: r.endReason.rawValue).increment() }
        if r.unterminated { metrics.unterminated(route: r.route, client: client).increment() }
        if let ttfb = r.ttfbMs {
            metrics.ttfb(route: r.route, client: client, stream: r.stream).record(milliseconds(ttfb))
        }
        metrics.duration(route: r.route, client: client, stream: r.stream).record(milliseconds(r.durationMs))
        if r.toolCalls > 0 { metrics.toolCallsEmitted(route: r.route, client: client).increment(by: Int64(r.toolCalls)) }
        if r.toolResults > 0 { metrics.toolResultsReceived(route: r.route, client: client).increment(by: Int64(r.toolResults)) }
    }

    private static func milliseconds(_ ms: Double) -> Duration {
        .nanoseconds(Int64((max(0, ms) * 1_000_000).rounded()))
    }
}
