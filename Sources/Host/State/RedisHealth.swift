import Foundation
import Logging
import NIOConcurrencyHelpers

/// Whether the Redis store talks to Redis or to its fallback, and the one log line per
/// transition. While down, a single caller probes at most once per `probeInterval`.
final class RedisHealth: @unchecked Sendable {
    private struct State {
        var downSince: Date?
        var reason: String?
        var nextProbe = Date.distantPast
        var probing = false
    }

    private let state = NIOLockedValueBox(State())
    private let logger: Logger
    private let probeInterval: TimeInterval
    /// Called once per transition to down (set once, before any traffic).
    var onDown: (@Sendable () -> Void)?

    init(logger: Logger, probeInterval: TimeInterval = 1) {
        self.logger = logger
        self.probeInterval = probeInterval
    }

    var reason: String? { state.withLockedValue { $0.reason } }

    /// True when this call may go to Redis: always while healthy; while down, only the one
    /// caller whose turn it is to probe.
    func mayTry() -> Bool {
        state.withLockedValue { s in
            guard s.downSince != nil else { return true }
            guard !s.probing, Date() >= s.nextProbe else { return false }
            s.probing = true
            return true
        }
    }

    func succeeded() {
        let downFor: TimeInterval? = state.withLockedValue { s in
            s.probing = false
            guard let since = s.downSince else { return nil }
            s.downSince = nil
            s.reason = nil
            return Date().timeIntervalSince(since)
        }
        if let downFor {
            logger.notice("redis is back: shared state restored", metadata: ["was_down_s": .stringConvertible(Int(downFor.rounded()))])
        }
    }

    func failed(_ why: String) {
        let firstFailure: Bool = state.withLockedValue { s in
            s.probing = false
            s.nextProbe = Date().addingTimeInterval(probeInterval)
            guard s.downSince == nil else { return false }
            s.downSince = Date()
            s.reason = why
            return true
        }
        if firstFailure {
            logger.error("redis unreachable: falling back to in-memory state", metadata: ["reason": .string(why)])
            onDown?()
        }
    }
}
