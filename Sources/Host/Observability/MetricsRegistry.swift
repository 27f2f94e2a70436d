import Prometheus

/// The Prometheus series of the metrics contract (/work/notes/metrics-contract.md), exported at
/// `GET /metrics`. Every label value comes from a closed set (routes, ClientKind, EndReason, HTTP
/// statuses, plugins.json driver names, the state operations): model names, request ids and
/// anything a caller sends never become labels.
public final class HostMetrics: Sendable {
    /// The process's registry. Access records, driver bridges and the state decorator record here
    /// unless given another, so every route gets the request metrics by writing its access record.
    public static let shared = HostMetrics()

    public let registry: PrometheusCollectorRegistry
    /// Driver streams (answers) between `start` and the end of their exchange.
    let streamsInFlight: Gauge
    /// 1 while the state service serves from its in-memory fallback (refreshed at each scrape).
    let stateDegraded: Gauge

    enum Name {
        static let requests = "mix2api_requests_total"
        static let streamCuts = "mix2api_stream_cuts_total"
        static let unterminated = "mix2api_streams_unterminated_total"
        static let ttfb = "mix2api_request_ttfb_seconds"
        static let duration = "mix2api_request_duration_seconds"
        static let inFlight = "mix2api_streams_in_flight"
        static let toolCalls = "mix2api_tool_calls_emitted_total"
        static let toolResults = "mix2api_tool_results_received_total"
        static let driverEvents = "mix2api_driver_events_total"
        static let stateOperations = "mix2api_state_operations_total"
        static let stateDegraded = "mix2api_state_degraded"
        static let buildInfo = "mix2api_build_info"
        static func driverCounter(_ name: String) -> String { "mix2api_driver_\(name)_total" }
    }

    /// Answers run from milliseconds to many minutes; the buckets cover both ends.
    static let ttfbBuckets: [Duration] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120].map(seconds)
    static let durationBuckets: [Duration] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800].map(seconds)
    static let routes = ["chat_completions", "messages", "count_tokens"]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), version: String = BuildInfo.version) {
        self.registry = registry
        streamsInFlight = registry.makeGauge(descriptor: Self.describe(Name.inFlight, "Driver streams (answers) in progress"))
        stateDegraded = registry.makeGauge(descriptor: Self.describe(Name.stateDegraded, "1 while the state service serves from its in-memory fallback"))
        registry.makeGauge(descriptor: Self.describe(Name.buildInfo, "The running mix2api build"), labels: [("version", version)]).set(to: 1)
        // Series that should stay 0 exist from the start, so rules and dashboards see a 0, not nothing.
        for route in Self.routes {
            for client in ClientKind.allCases {
                _ = unterminated(route: route, client: client.rawValue)
            }
        }
        for (op, results) in StateOperation.expected {
            for result in results { _ = stateOperation(op, result) }
        }
    }

    /// The Prometheus text exposition of every series.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }

    // MARK: series (the registry returns the existing series for a known label set)

    func requests(route: String, client: String, stream: Bool, tools: Bool, endReason: String, status: Int) -> Counter {
        registry.makeCounter(
            descriptor: Self.describe(Name.requests, "Requests by how they ended"),
            labels: [("route", route), ("client", client), ("stream", String(stream)), ("tools", String(tools)), ("end_reason", endReason), ("status", String(status))])
    }

    func streamCuts(route: String, client: String, endReason: String) -> Counter {
        registry.makeCounter(
            descriptor: Self.describe(Name.streamCuts, "Started SSE answers that ended with an error chunk (end_reason not ok or client_abort)"),
            labels: [("route", route), ("client", client), ("end_reason", endReason)])
    }

    func unterminated(route: String, client: String) -> Counter {
        registry.makeCounter(
            descriptor: Self.describe(Name.unterminated, "Started SSE answers that ended without their terminal signal (should stay 0)"),
            labels: [("route", route), ("client", client)])
    }

    func ttfb(route: String, client: String, stream: Bool) -> DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: Self.describe(Name.ttfb, "Time to the first byte of the answer's body"),
            labels: [("route", route), ("client", client), ("stream", String(stream))], buckets: Self.ttfbBuckets)
    }

    func duration(route: String, client: String, stream: Bool) -> DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: Self.describe(Name.duration, "Time from the request to the end of its answer"),
            labels: [("route", route), ("client", client), ("stream", String(stream))], buckets: Self.durationBuckets)
    }

    func toolCallsEmitted(route: String, client: String) -> Counter {
        registry.makeCounter(descriptor: Self.describe(Name.toolCalls, "Tool calls sent to clients"), labels: [("route", route), ("client", client)])
    }

    func toolResultsReceived(route: String, client: String) -> Counter {
        registry.makeCounter(descriptor: Self.describe(Name.toolResults, "Tool results carried by requests"), labels: [("route", route), ("client", client)])
    }

    func driverEvents(driver: String, kind: String) -> Counter {
        registry.makeCounter(descriptor: Self.describe(Name.driverEvents, "Events drivers emitted, by kind"), labels: [("driver", driver), ("kind", kind)])
    }

    func driverCounter(driver: String, name: String) -> Counter {
        registry.makeCounter(descriptor: Self.describe(Name.driverCounter(name), "A driver's own counter (counter_add)"), labels: [("driver", driver)])
    }

    func stateOperation(_ op: StateOperation, _ result: StateOperation.Result) -> Counter {
        registry.makeCounter(
            descriptor: Self.describe(Name.stateOperations, "State service calls by outcome"), labels: [("op", op.rawValue), ("result", result.rawValue)])
    }

    /// Reads what is only known at scrape time.
    func refresh(state: any StateStore) {
        stateDegraded.set(to: state.degradedReason == nil ? 0 : 1)
    }

    private static func seconds(_ s: Double) -> Duration { .nanoseconds(Int64((s * 1e9).rounded())) }

    /// The full name is given as is (no namespace/unit assembly), so it reads like the contract.
    private static func describe(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}

/// What the state service was asked, for `mix2api_state_operations_total{op,result}`.
enum StateOperation: String, CaseIterable, Sendable {
    case get, set, delete, lock, unlock

    enum Result: String, Sendable { case hit, miss, ok, busy, error }

    /// The outcomes each operation can have.
    static let expected: [(StateOperation, [Result])] = [
        (.get, [.hit, .miss, .error]), (.set, [.ok, .error]), (.delete, [.ok, .error]), (.lock, [.ok, .busy, .error]), (.unlock, [.ok, .error]),
    ]
}
