import NIOConcurrencyHelpers
import NIOCore
import PluginABI

/// One request's conversation with its driver: starts the driver stream, hands its events out in
/// batches, arms the keep-alive and timeout timers on the connection's event loop, and cancels
/// the driver exactly when it must (client gone, timeout, tool block complete).
final class ChatExchange: @unchecked Sendable {
    struct Limits {
        var firstEvent: TimeAmount
        var idle: TimeAmount
        var total: TimeAmount
        var keepAlive: TimeAmount
        /// Per-stream budget of events waiting for a slow client (EventSink).
        var bufferBytes = EventSink.defaultBudgetBytes
    }

    /// What a timer wake-up found to be due.
    enum Due: Equatable { case nothing, keepAlive, firstEventTimeout, idleTimeout, totalTimeout }

    private(set) var request: CanonicalRequest
    let driver: LoadedDriver
    /// Replaced when the answer is asked for again (restart); read from other threads.
    var sink: EventSink { sinkBox.withLockedValue { $0 } }
    private let sinkBox: NIOLockedValueBox<EventSink>
    private let eventLoop: any EventLoop
    private let limits: Limits
    /// The upstream's clocks (first event, idle, total) count from here.
    let startedAt = NIODeadline.now()
    /// When the request arrived, before its body was read: what the access line's times count
    /// from, as the client's do.
    let receivedAt: NIODeadline
    /// When the driver accepted the first `start` (nil: it refused).
    private(set) var driverStartedAt: NIODeadline?
    private(set) var streamID: UInt64?
    private(set) var firstEventAt: NIODeadline?
    private(set) var lastEventAt: NIODeadline
    /// The last time bytes went to the client (keep-alives count); nil before the headers.
    var lastWriteAt: NIODeadline?
    private(set) var upstreamStatus = 0
    private(set) var reportedUsage: (prompt: Int, completion: Int)?
    private(set) var upstreamSession: (id: String, exchange: String)?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private let cancelled = NIOLockedValueBox(false)
    private var watch: (ConnectionState, Int)?

    private let inFlight: InFlightStreams?

    init(request: CanonicalRequest, driver: LoadedDriver, eventLoop: any EventLoop, limits: Limits, inFlight: InFlightStreams? = nil, receivedAt: NIODeadline? = nil) {
        self.receivedAt = receivedAt ?? .now()
        self.request = request
        self.driver = driver
        self.eventLoop = eventLoop
        self.limits = limits
        self.inFlight = inFlight
        self.sinkBox = NIOLockedValueBox(EventSink(requestID: request.requestID, budgetBytes: limits.bufferBytes))
        self.lastEventAt = startedAt
    }

    /// A sink that overflows stops the driver from the event loop (never re-entering the driver
    /// from inside its own emit).
    private func armOverflow(_ sink: EventSink) {
        let loop = eventLoop
        sink.onOverflow = { [weak self] in loop.execute { self?.cancelDriver() } }
    }

    /// Starts the driver stream; false when the driver refused (no event will come).
    func start() -> Bool {
        armOverflow(sink)
        let toolMode = driver.capabilities.nativeTools ? "native" : "text"
        streamID = driver.start(sink: sink, requestJSON: request.driverJSON(toolMode: toolMode))
        guard streamID != nil else { return false }
        if driverStartedAt == nil { driverStartedAt = .now() }
        inFlight?.add(sink)
        return true
    }

    /// Abandons the current driver stream and asks again with `newRequest` (the tool protocol's
    /// corrective retry). False when the driver refused to start.
    func restart(with newRequest: CanonicalRequest) -> Bool {
        if let id = streamID { driver.cancel(id) }
        inFlight?.remove(sink)
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        sinkBox.withLockedValue { [limits] in $0 = EventSink(requestID: newRequest.requestID, budgetBytes: limits.bufferBytes) }
        cancelled.withLockedValue { $0 = false }
        request = newRequest
        lastEventAt = .now()
        let started = start()
        if watch?.0.isClosed == true { clientGone() }
        return started
    }

    /// Idempotent and thread-safe (the connection watcher calls it from the event loop).
    func cancelDriver() {
        let first = cancelled.withLockedValue { c -> Bool in
            defer { c = true }
            return !c
        }
        guard first, let id = streamID else { return }
        driver.cancel(id)
        // A driver that never sends the terminal after cancel must not pin the stream forever.
        let registry = driver.bridge.registry
        eventLoop.scheduleTask(in: .seconds(10)) {
            if registry.sink(id) != nil {
                registry.remove(id)
                self.driver.bridge.violations.withLockedValue { $0 += 1 }
            }
        }
    }

    var wasCancelled: Bool { cancelled.withLockedValue { $0 } }

    /// The next batch of work, with timers armed for whatever is due next. Bookkeeping events
    /// (usage, session, upstream status) are recorded here and still passed on.
    func next(headersSent: Bool) async -> (batch: EventSink.Batch, due: Due) {
        armTimer(headersSent: headersSent)
        let batch = await sink.next()
        let now = NIODeadline.now()
        if !batch.events.isEmpty {
            lastEventAt = now
            for event in batch.events {
                switch event {
                case .usage(let p, let c): reportedUsage = (p, c)
                case .session(let id, let exchange): upstreamSession = (id, exchange)
                case .upstreamStatus(let s): upstreamStatus = s
                case .error(let failure) where failure.upstreamStatus != 0: upstreamStatus = failure.upstreamStatus
                default: if firstEventAt == nil { firstEventAt = now }
                }
            }
        }
        if batch.timerFired {
            timer = nil
            timerDeadline = nil
        }
        return (batch, batch.timerFired || batch.events.isEmpty ? due(now: now, headersSent: headersSent) : .nothing)
    }

    func due(now: NIODeadline, headersSent: Bool) -> Due {
        if now >= startedAt + limits.total { return .totalTimeout }
        if firstEventAt == nil, now >= startedAt + limits.firstEvent { return .firstEventTimeout }
        if firstEventAt != nil, now >= lastEventAt + limits.idle { return .idleTimeout }
        if request.stream, now >= (lastWriteAt ?? startedAt) + limits.keepAlive { return .keepAlive }
        return .nothing
    }

    private func nextDeadline() -> NIODeadline {
        var d = startedAt + limits.total
        d = min(d, firstEventAt == nil ? startedAt + limits.firstEvent : lastEventAt + limits.idle)
        if request.stream { d = min(d, (lastWriteAt ?? startedAt) + limits.keepAlive) }
        return d
    }

    private func armTimer(headersSent: Bool) {
        let deadline = nextDeadline()
        if let current = timerDeadline, current <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        let sink = self.sink
        timer = eventLoop.scheduleTask(deadline: deadline) { sink.signalTimer() }
    }

    /// Cancels the driver and wakes the writer as soon as the client is gone.
    func watchClient(_ connection: ConnectionState?) {
        guard let connection else { return }
        if let token = connection.onClose({ self.clientGone() }) {
            watch = (connection, token)
        } else {
            clientGone()
        }
    }

    func clientGone() {
        cancelDriver()
        sink.signalClientGone()
    }

    /// The exchange is over: timers and the client watch go.
    func close() {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        if let (connection, token) = watch { connection.remove(token) }
        watch = nil
        inFlight?.remove(sink)
    }

    var promptTokens: Int {
        if let u = reportedUsage, u.prompt > 0 { return u.prompt }
        return TokenEstimator.estimate(request)
    }

    var completionTokens: Int? {
        if let u = reportedUsage, u.completion > 0 { return u.completion }
        return nil
    }

    /// The first-token phases for the access line, in ms since the request arrived. After a
    /// corrective retry the arrivals are the retry's: its answer is the one the client got.
    func recordPhases(into record: inout AccessRecord) {
        let (head, delta) = sink.arrivals
        record.driverStartMs = driverStartedAt.map { elapsedMs(to: $0) }
        record.upstreamHeadMs = head.map { elapsedMs(to: $0) }
        record.firstDeltaMs = delta.map { elapsedMs(to: $0) }
    }

    /// Ms from `since` (the request's arrival unless given) to `end`.
    func elapsedMs(_ since: NIODeadline? = nil, to end: NIODeadline = .now()) -> Double {
        Double((end - (since ?? receivedAt)).nanoseconds) / 1_000_000
    }
}
