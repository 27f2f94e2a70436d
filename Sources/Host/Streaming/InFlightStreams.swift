import NIOConcurrencyHelpers

/// The answers being written right now, so shutdown can end them itself, with a visible error,
/// before the service group's hard cancellation makes writing impossible.
final class InFlightStreams: Sendable {
    private let sinks = NIOLockedValueBox<[ObjectIdentifier: EventSink]>([:])

    func add(_ sink: EventSink) { sinks.withLockedValue { $0[ObjectIdentifier(sink)] = sink } }
    func remove(_ sink: EventSink) { _ = sinks.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(sink)) } }
    var count: Int { sinks.withLockedValue { $0.count } }

    func signalShutdown() {
        for sink in sinks.withLockedValue({ Array($0.values) }) { sink.signalShutdown() }
    }
}
