import NIOConcurrencyHelpers

/// The meeting point of a driver's threads and the task that writes the answer. Drivers push
/// events from any thread without blocking; the writer takes them in batches, so a burst of
/// deltas becomes one socket write. Timers and the client's disconnect wake the writer too.
final class EventSink: @unchecked Sendable {
    struct Batch {
        var events: [DriverEvent] = []
        var clientGone = false
        var timerFired = false
        /// The instance is shutting down and this answer must end now, with a visible signal.
        var shutdown = false
    }

    let requestID: String
    private let lock = NIOLock()
    private var buffer: [DriverEvent] = []
    private var clientGone = false
    private var timerFired = false
    private var shutdown = false
    private var terminated = false
    private var waiter: CheckedContinuation<Void, Never>?

    init(requestID: String) {
        self.requestID = requestID
        buffer.reserveCapacity(8)
    }

    /// Returns false when the stream already had its terminal event (the event is dropped).
    func push(_ event: DriverEvent) -> Bool {
        let w: CheckedContinuation<Void, Never>? = lock.withLock {
            if terminated { return nil }
            if event.isTerminal { terminated = true }
            buffer.append(event)
            defer { waiter = nil }
            return waiter
        }
        w?.resume()
        return true
    }

    func signalClientGone() { signal { $0.clientGone = true } }
    func signalTimer() { signal { $0.timerFired = true } }
    func signalShutdown() { signal { $0.shutdown = true } }

    private func signal(_ set: (EventSink) -> Void) {
        let w: CheckedContinuation<Void, Never>? = lock.withLock {
            set(self)
            defer { waiter = nil }
            return waiter
        }
        w?.resume()
    }

    /// Waits until there is something to do and takes all of it.
    func next() async -> Batch {
        if let batch = take() { return batch }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (cont: CheckedContinuation<Void, Never>) in
                let ready = lock.withLock { () -> Bool in
                    if hasWork { return true }
                    waiter = cont
                    return false
                }
                if ready { cont.resume() }
            }
        } onCancel: {
            signalShutdown()
        }
        return take() ?? Batch()
    }

    private var hasWork: Bool { !buffer.isEmpty || clientGone || timerFired || shutdown }

    private func take() -> Batch? {
        lock.withLock {
            guard hasWork else { return nil }
            var batch = Batch(events: [], clientGone: clientGone, timerFired: timerFired, shutdown: shutdown)
            swap(&batch.events, &buffer)
            timerFired = false
            return batch
        }
    }
}
