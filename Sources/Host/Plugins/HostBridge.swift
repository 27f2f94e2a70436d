import Foundation
import Logging
import NIOConcurrencyHelpers
import PluginABI

/// The host side of the ABI: one `m2a_host_api` table per loaded driver, whose `ctx` is this
/// object. Everything here may be called from any driver thread.
final class HostBridge: @unchecked Sendable {
    let driverName: String
    let registry: StreamRegistry
    let state: any StateStore
    let logger: Logger
    let counters: DriverCounters
    let eventCounters: DriverEventCounters
    /// Emits the driver made that broke the stream rules (late, unknown, malformed).
    let violations = NIOLockedValueBox<Int>(0)
    /// The C table handed to the driver. owner: this bridge; lives as long as the bridge.
    let table: UnsafeMutablePointer<m2a_host_api>

    init(driverName: String, registry: StreamRegistry, state: any StateStore, logger: Logger, metrics: HostMetrics = .shared) {
        self.driverName = driverName
        self.registry = registry
        self.state = state
        self.logger = logger
        self.counters = DriverCounters(driver: driverName, metrics: metrics)
        self.eventCounters = DriverEventCounters(driver: driverName, metrics: metrics)
        table = .allocate(capacity: 1)
        table.initialize(to: m2a_host_api(
            struct_size: UInt32(MemoryLayout<m2a_host_api>.size),
            abi_major: M2A_ABI_VERSION_MAJOR,
            abi_minor: M2A_ABI_VERSION_MINOR,
            ctx: nil,
            emit: HostBridge.emitThunk,
            log: HostBridge.logThunk,
            counter_add: HostBridge.counterThunk,
            wall_ms: HostBridge.wallThunk,
            monotonic_ns: HostBridge.monotonicThunk,
            state_get: HostBridge.stateGetThunk,
            state_set: HostBridge.stateSetThunk,
            state_delete: HostBridge.stateDeleteThunk,
            state_lock: HostBridge.stateLockThunk,
            state_unlock: HostBridge.stateUnlockThunk,
            buf_free: HostBridge.bufFreeThunk,
            state_flags: state.neverBlocks ? M2A_STATE_NEVER_BLOCKS.rawValue : 0))
        // The bridge is kept alive by whoever owns the loaded driver; ctx is an unretained reference.
        table.pointee.ctx = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        table.deinitialize(count: 1)
        table.deallocate()
    }

    /// Turns one C event into a Swift event and queues it. The returned code is the ABI's.
    func emit(stream id: UInt64, _ event: UnsafePointer<m2a_event>) -> Int32 {
        guard event.pointee.struct_size >= UInt32(MemoryLayout<m2a_event>.size) else {
            return violation(id, "event struct_size \(event.pointee.struct_size) is smaller than ABI 1.0's", M2A_ERR_INVALID)
        }
        guard let sink = registry.sink(id) else {
            return registry.wasIssued(id)
                ? violation(id, "emit after the stream's terminal event", M2A_ERR_STREAM_CLOSED)
                : violation(id, "emit for a stream that was never started", M2A_ERR_UNKNOWN_STREAM)
        }
        guard let converted = HostBridge.convert(event.pointee) else {
            return violation(id, "event kind \(event.pointee.kind) is not part of ABI 1.0", M2A_ERR_INVALID)
        }
        guard sink.push(converted) else {
            return violation(id, "emit after the stream's terminal event", M2A_ERR_STREAM_CLOSED)
        }
        eventCounters.count(converted)
        if converted.isTerminal { registry.remove(id) }
        return M2A_OK.rawValue
    }

    private func violation(_ id: UInt64, _ what: String, _ code: m2a_status) -> Int32 {
        violations.withLockedValue { $0 += 1 }
        logger.warning("driver protocol violation", metadata: ["driver": .string(driverName), "stream": .stringConvertible(id), "problem": .string(what)])
        return code.rawValue
    }

    static func string(_ s: m2a_str) -> String {
        guard let p = s.ptr, s.len > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: s.len), as: UTF8.self)
    }

    static func convert(_ e: m2a_event) -> DriverEvent? {
        switch m2a_event_kind(rawValue: e.kind) {
        case M2A_EVENT_TEXT_DELTA: return .text(string(e.text))
        case M2A_EVENT_REASONING_DELTA: return .reasoning(string(e.text))
        case M2A_EVENT_TOOL_CALL_START: return .toolCallStart(index: Int(e.index), id: string(e.id), name: string(e.name))
        case M2A_EVENT_TOOL_CALL_ARGS: return .toolCallArguments(index: Int(e.index), fragment: string(e.text))
        case M2A_EVENT_TOOL_CALL_END: return .toolCallEnd(index: Int(e.index))
        case M2A_EVENT_USAGE: return .usage(prompt: Int(max(0, e.prompt_tokens)), completion: Int(max(0, e.completion_tokens)))
        case M2A_EVENT_SESSION: return .session(id: string(e.text), exchange: string(e.id))
        case M2A_EVENT_UPSTREAM_STATUS: return .upstreamStatus(Int(e.upstream_status))
        case M2A_EVENT_FINISH:
            switch m2a_finish_reason(rawValue: e.finish_reason) {
            case M2A_FINISH_LENGTH: return .finish(.length)
            case M2A_FINISH_TOOL_CALLS: return .finish(.toolCalls)
            case M2A_FINISH_CONTENT_FILTER: return .finish(.contentFilter)
            case M2A_FINISH_CANCELLED: return .finish(.cancelled)
            default: return .finish(.stop)
            }
        case M2A_EVENT_ERROR:
            let kind: DriverFailure.Kind
            switch m2a_error_kind(rawValue: e.error_kind) {
            case M2A_ERROR_UPSTREAM_AUTH: kind = .upstreamAuth
            case M2A_ERROR_RATE_LIMITED: kind = .rateLimited
            case M2A_ERROR_TIMEOUT: kind = .timeout
            case M2A_ERROR_UNAVAILABLE: kind = .unavailable
            case M2A_ERROR_INVALID_REQUEST: kind = .invalidRequest
            case M2A_ERROR_CONTEXT_LENGTH: kind = .contextLength
            case M2A_ERROR_DRIVER: kind = .driver
            default: kind = .upstream
            }
            return .error(DriverFailure(kind, string(e.text), upstreamStatus: Int(e.upstream_status), retryAfterMilliseconds: Int(e.retry_after_ms)))
        default: return nil
        }
    }

    private static func bridge(_ ctx: UnsafeMutableRawPointer?) -> HostBridge {
        Unmanaged<HostBridge>.fromOpaque(ctx!).takeUnretainedValue()
    }

    private func key(_ k: m2a_str) -> String { "\(driverName):\(HostBridge.string(k))" }

    // MARK: C thunks (no captures allowed: everything goes through ctx)

    private static let emitThunk: @convention(c) (UnsafeMutableRawPointer?, UInt64, UnsafePointer<m2a_event>?) -> Int32 = { ctx, id, event in
        guard let event else { return M2A_ERR_INVALID.rawValue }
        return bridge(ctx).emit(stream: id, event)
    }

    private static let logThunk: @convention(c) (UnsafeMutableRawPointer?, UInt64, UInt32, m2a_str) -> Void = { ctx, id, level, message in
        let b = bridge(ctx)
        var metadata: Logger.Metadata = ["driver": .string(b.driverName)]
        if id != 0, let sink = b.registry.sink(id) { metadata["request_id"] = .string(sink.requestID) }
        let text = Redactor.redact(string(message))
        switch m2a_log_level(rawValue: level) {
        case M2A_LOG_DEBUG: b.logger.debug("\(text)", metadata: metadata)
        case M2A_LOG_WARN: b.logger.warning("\(text)", metadata: metadata)
        case M2A_LOG_ERROR: b.logger.error("\(text)", metadata: metadata)
        default: b.logger.info("\(text)", metadata: metadata)
        }
    }

    private static let counterThunk: @convention(c) (UnsafeMutableRawPointer?, m2a_str, UInt64) -> Void = { ctx, name, delta in
        bridge(ctx).counters.add(string(name), delta)
    }

    private static let wallThunk: @convention(c) (UnsafeMutableRawPointer?) -> Int64 = { _ in
        Int64(Date().timeIntervalSince1970 * 1000)
    }

    private static let monotonicThunk: @convention(c) (UnsafeMutableRawPointer?) -> UInt64 = { _ in
        DispatchTime.now().uptimeNanoseconds
    }

    private static let stateGetThunk: @convention(c) (UnsafeMutableRawPointer?, m2a_str, UnsafeMutablePointer<m2a_buf>?) -> Int32 = { ctx, key, out in
        guard let out else { return M2A_ERR_INVALID.rawValue }
        out.pointee = m2a_buf(ptr: nil, len: 0)
        let b = bridge(ctx)
        switch b.state.get(b.key(key)) {
        case .success(let value?):
            out.pointee = copyOut(value)
            return M2A_OK.rawValue
        case .success(nil): return M2A_ERR_NOT_FOUND.rawValue
        case .failure: return M2A_ERR_UNAVAILABLE.rawValue
        }
    }

    private static let stateSetThunk: @convention(c) (UnsafeMutableRawPointer?, m2a_str, m2a_str, UInt64) -> Int32 = { ctx, key, value, ttl in
        guard ttl > 0 else { return M2A_ERR_INVALID.rawValue }
        let b = bridge(ctx)
        return b.state.set(b.key(key), string(value), ttlMilliseconds: ttl) ? M2A_OK.rawValue : M2A_ERR_UNAVAILABLE.rawValue
    }

    private static let stateDeleteThunk: @convention(c) (UnsafeMutableRawPointer?, m2a_str) -> Int32 = { ctx, key in
        let b = bridge(ctx)
        return b.state.delete(b.key(key)) ? M2A_OK.rawValue : M2A_ERR_UNAVAILABLE.rawValue
    }

    private static let stateLockThunk: @convention(c) (UnsafeMutableRawPointer?, m2a_str, UInt64, UnsafeMutablePointer<m2a_buf>?) -> Int32 = { ctx, key, ttl, out in
        guard let out, ttl > 0 else { return M2A_ERR_INVALID.rawValue }
        out.pointee = m2a_buf(ptr: nil, len: 0)
        let b = bridge(ctx)
        switch b.state.lock(b.key(key), ttlMilliseconds: ttl) {
        case .success(let token?):
            out.pointee = copyOut(token)
            return M2A_OK.rawValue
        case .success(nil): return M2A_ERR_BUSY.rawValue
        case .failure: return M2A_ERR_UNAVAILABLE.rawValue
        }
    }

    private static let stateUnlockThunk: @convention(c) (UnsafeMutableRawPointer?, m2a_str, m2a_str) -> Int32 = { ctx, key, token in
        let b = bridge(ctx)
        return b.state.unlock(b.key(key), token: string(token)) ? M2A_OK.rawValue : M2A_ERR_UNAVAILABLE.rawValue
    }

    private static let bufFreeThunk: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<m2a_buf>?) -> Void = { _, buf in
        guard let buf else { return }
        free(buf.pointee.ptr)
        buf.pointee = m2a_buf(ptr: nil, len: 0)
    }

    /// A malloc'd copy the driver frees through buf_free. NUL-terminated for C convenience.
    private static func copyOut(_ s: String) -> m2a_buf {
        var s = s
        return s.withUTF8 { utf8 in
            let p = malloc(utf8.count + 1)!.assumingMemoryBound(to: CChar.self)
            if let base = utf8.baseAddress { memcpy(p, base, utf8.count) }
            p[utf8.count] = 0
            return m2a_buf(ptr: p, len: utf8.count)
        }
    }
}
