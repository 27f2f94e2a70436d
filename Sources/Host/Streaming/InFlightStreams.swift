import NIOConcurrencyHelpers
import Prometheus

/// The answers being written right now, so shutdown can end them itself, with a visible error,
/// before the service group's hard cancellation makes writing impossible. Their number is the
/// `mix2api_streams_in_flight` gauge.
final class InFlightStreams: Sendable {
    private let sinks = NIOLockedValueBox<[ObjectIdentifier: EventSink]>([:])
    private let gauge: Gauge?

    init(gauge: Gauge? = nil) {
        self.gauge = gauge
    }

    func add(_ sink: EventSink) { update { $0[ObjectIdentifier(sink)] = sink } }
    func remove(_ sink: EventSink) { update { _ = $0.removeValue(forKey: ObjectIdentifier(sink)) } }
    var count: Int { sinks.withLockedValue { $0.count } }

    /// Sets the gauge under the lock, so concurrent adds and removes cannot leave it stale.
    private func update(_ change: (inout [ObjectIdentifier: EventSink]) -> Void) {
        sinks.withLockedValue {
            change(&$0)
            gauge?.set(to: Double($0.count))
        }
    }

    func signalShutdown() {
        for sink in sinks.withLockedValue({ Array($0.values) }) { sink.signalShutdown() }
    }
}
