import NIOConcurrencyHelpers
import NIOCore

/// The meeting point of a driver's threads and the task that writes the answer. Drivers push
/// events from any thread without blocking; the writer takes them in batches, so a burst of
/// deltas becomes one socket write. Timers and the client's disconnect wake the writer too.
///
/// Memory is bounded. Events pile up only while the writer waits for the client to take a write
/// (the channel is not writable); when they hold more than `budgetBytes` and the client has taken
/// nothing for `stallGrace`, or they reach `hardCapBytes` at once, the answer is given up
/// (`overflowed`, end_reason `client_too_slow`) instead of letting one stream grow without limit.
/// The grace keeps a fast upstream's burst to a client that is reading (the channel is briefly
/// unwritable while the burst drains) from being mistaken for a client that stopped.
final class EventSink: @unchecked Sendable {
    struct Batch {
        var events: [DriverEvent] = []
        var clientGone = false
        var timerFired = false
        /// The instance is shutting down and this answer must end now, with a visible signal.
        var shutdown = false
        /// Waiting events outgrew the budget: later events were dropped, the answer must end.
        var overflowed = false
    }

    /// Default for `MIX2API_STREAM_BUFFER_BYTES`: with the rest of a stream's state it keeps one
    /// stream under 64 KiB even when its client stops reading.
    static let defaultBudgetBytes = 32 * 1024
    /// How long the client may take nothing while more than the budget waits for it.
    static let stallGrace = TimeAmount.seconds(2)
    /// Never more than this many budgets wait, whatever the timing.
    static let hardCapFactor = 8
    /// What one queued event costs beyond its text (enum, array slot, string header).
    static let eventOverheadBytes = 32

    let requestID: String
    let budgetBytes: Int
    var hardCapBytes: Int { budgetBytes * Self.hardCapFactor }
    private let now: @Sendable () -> NIODeadline
    private let lock = NIOLock()
    private var buffer: [DriverEvent] = []
    private var bufferedBytes = 0
    private var overflowed = false
    /// Since when the writer waits for a write to reach the client (nil: it does not).
    private var blockedSince: NIODeadline?
    /// Runs once, on the overflowing driver thread, when the budget is exceeded: the writer may be
    /// stuck in a write for a long time, and the upstream should stop producing at once.
    var onOverflow: (@Sendable () -> Void)?
    private var clientGone = false
    private var timerFired = false
    private var shutdown = false
    private var terminated = false
    private var waiter: UnsafeContinuation<Void, Never>?
    /// When the driver's thread handed over the upstream's status and the answer's first delta:
    /// stamped at the push, so the hop to the writer shows as the gap up to `ttfb_ms`.
    private var upstreamHeadAt: NIODeadline?
    private var firstDeltaAt: NIODeadline?

    init(requestID: String, budgetBytes: Int = EventSink.defaultBudgetBytes, now: @escaping @Sendable () -> NIODeadline = { .now() }) {
        self.requestID = requestID
        self.budgetBytes = budgetBytes
        self.now = now
        buffer.reserveCapacity(8)
    }

    /// Returns false when the stream already had its terminal event (the event is dropped).
    /// After an overflow events are dropped quietly: the driver did nothing wrong.
    func push(_ event: DriverEvent) -> Bool {
        var overflowNow = false
        let (accepted, w): (Bool, UnsafeContinuation<Void, Never>?) = lock.withLock {
            if terminated { return (false, nil) }
            if event.isTerminal { terminated = true }
            if firstDeltaAt == nil { stamp(event) }
            if overflowed { return (true, nil) }
            let size = event.bufferedBytes + Self.eventOverheadBytes
            if !event.isTerminal, let since = blockedSince, bufferedBytes + size > budgetBytes,
                bufferedBytes + size > hardCapBytes || now() - since >= Self.stallGrace
            {
                overflowed = true
                overflowNow = true
            } else {
                bufferedBytes += size
                buffer.append(event)
            }
            defer { waiter = nil }
            return (true, waiter)
        }
        w?.resume()
        if overflowNow { onOverflow?() }
        return accepted
    }

    /// Under the lock; a clock read only for the first status and the first delta.
    private func stamp(_ event: DriverEvent) {
        switch event {
        case .upstreamStatus where upstreamHeadAt == nil: upstreamHeadAt = now()
        case .text, .reasoning, .toolCallStart: firstDeltaAt = now()
        default: break
        }
    }

    /// When the upstream's status and the first delta arrived (nil: not yet, or never).
    var arrivals: (upstreamHead: NIODeadline?, firstDelta: NIODeadline?) {
        lock.withLock { (upstreamHeadAt, firstDeltaAt) }
    }

    /// The budget was exceeded at some point (the answer is being given up).
    var hasOverflowed: Bool { lock.withLock { overflowed } }

    /// The writer starts (true) or ends (false) waiting for one write to reach the client.
    func writerWaiting(_ waiting: Bool) {
        let at = waiting ? now() : nil
        lock.withLock { blockedSince = at }
    }

    func signalClientGone() { signal { $0.clientGone = true } }
    func signalTimer() { signal { $0.timerFired = true } }
    func signalShutdown() { signal { $0.shutdown = true } }

    private func signal(_ set: (EventSink) -> Void) {
        let w: UnsafeContinuation<Void, Never>? = lock.withLock {
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
            // Unsafe: resumed exactly once, by whoever takes `waiter` under the lock (or at once
            // here); the checked variant costs an allocation per wait, i.e. per streamed chunk.
            await withUnsafeContinuation { (cont: UnsafeContinuation<Void, Never>) in
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

    private var hasWork: Bool { !buffer.isEmpty || clientGone || timerFired || shutdown || overflowed }

    private func take() -> Batch? {
        lock.withLock {
            guard hasWork else { return nil }
            var batch = Batch(events: [], clientGone: clientGone, timerFired: timerFired, shutdown: shutdown, overflowed: overflowed)
            swap(&batch.events, &buffer)
            bufferedBytes = 0
            timerFired = false
            return batch
        }
    }
}

extension DriverEvent {
    /// The text an event holds while it waits in a sink (UTF-8 bytes; O(1) for native strings).
    var bufferedBytes: Int {
        switch self {
        case .text(let s), .reasoning(let s): s.utf8.count
        case .toolCallStart(_, let id, let name): id.utf8.count + name.utf8.count
        case .toolCallArguments(_, let fragment): fragment.utf8.count
        case .session(let id, let exchange): id.utf8.count + exchange.utf8.count
        case .error(let failure): failure.message.utf8.count
        case .toolCallEnd, .usage, .upstreamStatus, .finish: 0
        }
    }
}
