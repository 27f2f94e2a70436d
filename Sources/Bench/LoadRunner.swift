import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// When requests may start and which of them count (monotonic ns).
struct RunClock: Sendable {
    let startNs: UInt64
    /// Requests started before this are warm-up: sent, not measured.
    let measureFromNs: UInt64
    /// No request starts at or after this.
    let endNs: UInt64

    var windowSeconds: Double { Double(endNs - measureFromNs) / 1e9 }
}

/// The load shape: a fixed number of workers each sending back to back (closed loop), or
/// arrivals at a fixed rate whatever the answers' speed (open loop: latency counts from when a
/// request was due, so a slow server cannot hide its queue).
enum LoadShape: Sendable {
    case closed(concurrency: Int, rampSeconds: Double)
    case open(ratePerSecond: Double, maxInFlight: Int)
}

/// A total number of requests shared by every loop's workers (closed loop, `--requests`).
final class RequestBudget: @unchecked Sendable {
    private let lock = NIOLock()
    private var left: Int

    init(total: Int) { left = total }

    /// True when one more request may start.
    func take() -> Bool {
        lock.withLock {
            guard left > 0 else { return false }
            left -= 1
            return true
        }
    }
}

/// Runs the load on one event loop and reports its stats when everything it started has ended.
final class LoopLoad: @unchecked Sendable {
    let loop: any EventLoop
    let plan: RequestPlan
    let clock: RunClock
    let budget: RequestBudget?
    let stats = RunStats()
    private let done: EventLoopPromise<RunStats>
    private var running = 0
    private var idle: [BenchConnection] = []
    private var ticker: RepeatedTask?
    private var nextArrivalNs: UInt64 = 0
    private var arrivalsOver = false

    init(loop: any EventLoop, plan: RequestPlan, clock: RunClock, budget: RequestBudget?) {
        self.loop = loop
        self.budget = budget
        self.plan = plan
        self.clock = clock
        self.done = loop.makePromise()
    }

    var finished: EventLoopFuture<RunStats> { done.futureResult }

    // MARK: closed loop

    /// `workers` workers on this loop; worker k starts after `delays[k]`.
    func startClosed(delaysNs: [UInt64]) {
        loop.execute {
            self.running = delaysNs.count
            if delaysNs.isEmpty { return self.done.succeed(self.stats) }
            for delay in delaysNs {
                self.loop.scheduleTask(in: .nanoseconds(Int64(delay))) { self.closedStep(connection: nil) }
            }
        }
    }

    private func closedStep(connection: BenchConnection?) {
        let now = Exchange.nowNs()
        guard now < clock.endNs, budget?.take() ?? true else {
            connection?.close()
            running -= 1
            if running == 0 { finish() }
            return
        }
        let exchange = Exchange(plan: plan, startNs: now, recorded: now >= clock.measureFromNs, stats: stats)
        if exchange.recorded { stats.started += 1 }
        withConnection(connection, exchange: exchange) { next in
            // A new turn from the loop, not from inside the previous answer's callbacks.
            self.loop.execute { self.closedStep(connection: next) }
        }
    }

    // MARK: open loop

    func startOpen(ratePerSecond: Double, maxInFlight: Int) {
        let intervalNs = UInt64(max(1, 1e9 / ratePerSecond))
        loop.execute {
            self.nextArrivalNs = self.clock.startNs
            self.ticker = self.loop.scheduleRepeatedTask(initialDelay: .zero, delay: .microseconds(500)) { _ in
                let now = Exchange.nowNs()
                while self.nextArrivalNs <= now, self.nextArrivalNs < self.clock.endNs {
                    self.arrive(scheduledNs: self.nextArrivalNs, maxInFlight: maxInFlight)
                    self.nextArrivalNs += intervalNs
                }
                if self.nextArrivalNs >= self.clock.endNs {
                    self.ticker?.cancel()
                    self.arrivalsOver = true
                    if self.running == 0 { self.finish() }
                }
            }
        }
    }

    private func arrive(scheduledNs: UInt64, maxInFlight: Int) {
        let recorded = scheduledNs >= clock.measureFromNs
        guard running < maxInFlight else {
            if recorded { stats.dropped += 1 }
            return
        }
        running += 1
        let exchange = Exchange(plan: plan, startNs: scheduledNs, recorded: recorded, stats: stats)
        if recorded { stats.started += 1 }
        var reuse: BenchConnection?
        while let candidate = idle.popLast() {
            if !candidate.closed {
                reuse = candidate
                break
            }
        }
        withConnection(reuse, exchange: exchange) { next in
            if let next { self.idle.append(next) }
            self.running -= 1
            if self.arrivalsOver, self.running == 0 { self.finish() }
        }
    }

    // MARK: shared

    /// Runs `exchange` on `connection` (or a new one); `then` gets the connection back if it can
    /// carry another request.
    private func withConnection(_ connection: BenchConnection?, exchange: Exchange, then: @escaping @Sendable (BenchConnection?) -> Void) {
        if let connection, !connection.closed {
            connection.send(exchange) { _, reusable in then(reusable ? connection : nil) }
            return
        }
        BenchConnection.connect(to: plan.target, on: loop).whenComplete { result in
            switch result {
            case .success(let fresh):
                fresh.send(exchange) { _, reusable in then(reusable ? fresh : nil) }
            case .failure(let error):
                exchange.recordFailure("connect", "\(error)")
                // Do not spin on a refused port: a connect failure costs the worker a moment.
                self.loop.scheduleTask(in: .milliseconds(10)) { then(nil) }
            }
        }
    }

    private func finish() {
        for connection in idle { connection.close() }
        idle.removeAll()
        done.succeed(stats)
    }
}
