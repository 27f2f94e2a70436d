import Dispatch
import BenchStamp
import DriverKit
import Foundation
import PluginABI

/// One running answer: plays a `Script` on the stream's own serial queue.
///
/// Every emit of a stream, its terminal included, happens on that queue. DriverStream drops
/// events after the terminal, but its check and its emit are not one atomic step, so a FINISH
/// sent from the host's thread inside `cancel` could be overtaken by a delta already in flight
/// here, which the host counts as a protocol violation. Cancel therefore only raises a flag and
/// queues the terminal behind whatever is being emitted.
final class StreamRun: @unchecked Sendable {
    let stream: DriverStream
    private let config: MockConfig
    private let onEnd: @Sendable (m2a_stream_id) -> Void
    private let queue = DispatchQueue(label: "mock-upstream.stream", target: .global())

    // Confined to `queue`.
    private var script: Script
    /// A delta whose `delta_delay_ms` has already been waited for.
    private var held: MockEvent?
    private var deltaSent = false
    /// A scenario pause has just elapsed: the next delta owes no `delta_delay_ms` on top.
    private var paused = false
    private var ended = false

    // Shared with `cancel`, which may come from any thread.
    private let lock = NSLock()
    private var cancelled = false
    private var pending: DispatchWorkItem?

    init(stream: DriverStream, script: Script, config: MockConfig, onEnd: @escaping @Sendable (m2a_stream_id) -> Void) {
        self.stream = stream
        self.script = script
        self.config = config
        self.onEnd = onEnd
    }

    func begin() { resume(after: config.firstDelayMs) }

    func cancel() {
        let timer: DispatchWorkItem? = lock.withLock {
            cancelled = true
            defer { pending = nil }
            return pending
        }
        // A stalled or hanging stream must not keep its closure (and this run) alive for the
        // rest of a 20 s pause after it ended.
        timer?.cancel()
        queue.async { self.end { $0.finish(M2A_FINISH_CANCELLED) } }
    }

    private var isCancelled: Bool { lock.withLock { cancelled } }

    private func resume(after milliseconds: Int) {
        guard milliseconds > 0 else {
            queue.async { self.pump() }
            return
        }
        let timer = DispatchWorkItem { self.pump() }
        let armed = lock.withLock { () -> Bool in
            if cancelled { return false }
            pending = timer
            return true
        }
        if armed { queue.asyncAfter(deadline: .now() + .milliseconds(milliseconds), execute: timer) }
    }

    /// Emits until the script needs to wait, then returns and is called again by a timer. A loop,
    /// not recursion, so 20k-delta scripts with no delay run flat.
    private func pump() {
        while !ended, !isCancelled {
            let event: MockEvent
            if let ready = held {
                held = nil
                event = ready
            } else {
                guard let next = script.next() else {
                    end { $0.fail(M2A_ERROR_DRIVER, "mock script ended without a terminal event") }
                    return
                }
                if next.isDelta, deltaSent, !paused, config.deltaDelayMs > 0 {
                    held = next
                    resume(after: config.deltaDelayMs)
                    return
                }
                event = next
            }
            switch event {
            case .upstreamStatus(let status): stream.upstreamStatus(status)
            case .session(let id, let exchange): stream.session(id: id, exchange: exchange)
            case .text(let text): delta { stream.text(text) }
            case .reasoning(let text): delta { stream.reasoning(text) }
            case .stampedText(let seq, let bytes): delta { stream.text(ChunkStamp.text(seq: seq, size: bytes)) }
            case .usage(let prompt, let completion): stream.usage(prompt: prompt, completion: completion)
            case .pause(let milliseconds):
                paused = true
                if milliseconds > 0 {
                    resume(after: milliseconds)
                    return
                }
            case .hang:
                return
            case .finish(let reason):
                end { $0.finish(reason) }
                return
            case .fail(let kind, let message, let status, let retryAfter):
                end { $0.fail(kind, message, upstreamStatus: status, retryAfterMilliseconds: retryAfter) }
                return
            }
        }
    }

    private func delta(_ send: () -> Void) {
        send()
        deltaSent = true
        paused = false
    }

    private func end(_ terminal: (DriverStream) -> Void) {
        guard !ended else { return }
        ended = true
        // Leave the registry before the host can see the terminal: a leak check that reads
        // active_streams right after the last stream ended must already read 0.
        onEnd(stream.id)
        terminal(stream)
    }
}

/// The running streams by id, for `cancel` and `active_streams`.
final class StreamRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var runs: [m2a_stream_id: StreamRun] = [:]

    /// False when the id is already running (the host reused an id).
    func insert(_ run: StreamRun) -> Bool {
        lock.withLock {
            if runs[run.stream.id] != nil { return false }
            runs[run.stream.id] = run
            return true
        }
    }

    func remove(_ id: m2a_stream_id) { lock.withLock { _ = runs.removeValue(forKey: id) } }
    func lookup(_ id: m2a_stream_id) -> StreamRun? { lock.withLock { runs[id] } }
    var count: Int { lock.withLock { runs.count } }
}
