import Foundation
import PluginABI

/// One running answer, as a Swift driver writes it. It enforces the ABI's stream rules on the
/// driver's side: after the single terminal event (`finish` or `fail`) everything is dropped, so
/// a driver racing a cancel against its own completion cannot send two terminals. Every emit
/// happens under the stream's lock (the host's emit never blocks), so a delta sent on one thread
/// can never land after a terminal sent on another.
public final class DriverStream: @unchecked Sendable {
    public let id: m2a_stream_id
    public let host: HostServices
    private let lock = NSLock()
    private var ended = false

    public init(id: m2a_stream_id, host: HostServices) {
        self.id = id
        self.host = host
    }

    /// True once the terminal event was sent.
    public var isEnded: Bool { lock.withLock { ended } }

    @discardableResult public func text(_ delta: String) -> Bool { send(M2A_EVENT_TEXT_DELTA, text: delta) }
    @discardableResult public func reasoning(_ delta: String) -> Bool { send(M2A_EVENT_REASONING_DELTA, text: delta) }

    @discardableResult
    public func toolCallStart(index: UInt32, id callID: String = "", name: String) -> Bool {
        send(M2A_EVENT_TOOL_CALL_START, id: callID, name: name) { $0.index = index }
    }

    @discardableResult
    public func toolCallArguments(index: UInt32, _ fragment: String) -> Bool {
        send(M2A_EVENT_TOOL_CALL_ARGS, text: fragment) { $0.index = index }
    }

    @discardableResult
    public func toolCallEnd(index: UInt32) -> Bool { send(M2A_EVENT_TOOL_CALL_END) { $0.index = index } }

    @discardableResult
    public func usage(prompt: Int64, completion: Int64) -> Bool {
        send(M2A_EVENT_USAGE) {
            $0.prompt_tokens = prompt
            $0.completion_tokens = completion
        }
    }

    @discardableResult
    public func session(id sessionID: String, exchange: String = "") -> Bool {
        send(M2A_EVENT_SESSION, text: sessionID, id: exchange)
    }

    @discardableResult
    public func upstreamStatus(_ status: Int32) -> Bool { send(M2A_EVENT_UPSTREAM_STATUS) { $0.upstream_status = status } }

    /// Ends the stream normally. Returns false when it had already ended.
    @discardableResult
    public func finish(_ reason: m2a_finish_reason = M2A_FINISH_STOP) -> Bool {
        terminal(M2A_EVENT_FINISH, text: "") { $0.finish_reason = reason.rawValue }
    }

    /// Ends the stream with an error. Returns false when it had already ended.
    @discardableResult
    public func fail(_ kind: m2a_error_kind, _ message: String, upstreamStatus: Int32 = 0, retryAfterMilliseconds: Int64 = 0) -> Bool {
        terminal(M2A_EVENT_ERROR, text: message) {
            $0.error_kind = kind.rawValue
            $0.upstream_status = upstreamStatus
            $0.retry_after_ms = retryAfterMilliseconds
        }
    }

    private func send(
        _ kind: m2a_event_kind, text: String = "", id callID: String = "", name: String = "",
        _ fill: (inout m2a_event) -> Void = { _ in }
    ) -> Bool {
        lock.withLock {
            if ended { return false }
            return emit(kind, text: text, id: callID, name: name, fill) == M2A_OK.rawValue
        }
    }

    private func terminal(_ kind: m2a_event_kind, text: String, _ fill: (inout m2a_event) -> Void) -> Bool {
        lock.withLock {
            if ended { return false }
            ended = true
            emit(kind, text: text, id: "", name: "", fill)
            return true
        }
    }

    @discardableResult
    private func emit(
        _ kind: m2a_event_kind, text: String, id callID: String, name: String, _ fill: (inout m2a_event) -> Void
    ) -> Int32 {
        var event = m2a_event_make(kind.rawValue)
        fill(&event)
        return withBorrowed(text) { t in
            withBorrowed(callID) { i in
                withBorrowed(name) { n in
                    event.text = t
                    event.id = i
                    event.name = n
                    return host.emit(id, &event)
                }
            }
        }
    }
}
