import Foundation
import PluginABI

/// The host's services as a driver sees them: a thin, Sendable wrapper over `m2a_host_api`.
/// Every call is forwarded as is; strings are lent to the host for the duration of the call.
public struct HostServices: @unchecked Sendable {
    // The host guarantees the table outlives the driver instance (see the header).
    let api: UnsafePointer<m2a_host_api>

    public init(api: UnsafePointer<m2a_host_api>) {
        self.api = api
    }

    public var abiVersion: (major: UInt32, minor: UInt32) { (api.pointee.abi_major, api.pointee.abi_minor) }

    @discardableResult
    public func emit(_ stream: m2a_stream_id, _ event: inout m2a_event) -> Int32 {
        api.pointee.emit(api.pointee.ctx, stream, &event)
    }

    public func log(_ level: m2a_log_level, _ message: String, stream: m2a_stream_id = 0) {
        withBorrowed(message) { api.pointee.log(api.pointee.ctx, stream, level.rawValue, $0) }
    }

    public func counterAdd(_ name: String, _ delta: UInt64 = 1) {
        withBorrowed(name) { api.pointee.counter_add(api.pointee.ctx, $0, delta) }
    }

    /// The host's state calls never block (ABI 1.1; a 1.0 host's table ends before the flags, and
    /// then they may). Only then may a driver call them from `start`.
    public var stateNeverBlocks: Bool {
        let offset = MemoryLayout<m2a_host_api>.offset(of: \.state_flags)!
        guard Int(api.pointee.struct_size) >= offset + MemoryLayout<UInt32>.size else { return false }
        return api.pointee.state_flags & M2A_STATE_NEVER_BLOCKS.rawValue != 0
    }

    public var wallMilliseconds: Int64 { api.pointee.wall_ms(api.pointee.ctx) }
    public var monotonicNanoseconds: UInt64 { api.pointee.monotonic_ns(api.pointee.ctx) }

    // MARK: Shared state (may block: call from the driver's own threads only)

    public enum StateError: Error, Equatable {
        case busy
        case unavailable
        case failed(Int32)
    }

    /// The stored value, or nil when there is none (missing, expired or unreadable).
    public func stateGet(_ key: String) throws -> String? {
        var out = m2a_buf(ptr: nil, len: 0)
        let rc = withBorrowed(key) { api.pointee.state_get(api.pointee.ctx, $0, &out) }
        switch rc {
        case M2A_OK.rawValue: return takeString(&out)
        case M2A_ERR_NOT_FOUND.rawValue: return nil
        default: throw Self.error(rc)
        }
    }

    public func stateSet(_ key: String, _ value: String, ttlMilliseconds: UInt64) throws {
        let rc = withBorrowed(key) { k in withBorrowed(value) { v in api.pointee.state_set(api.pointee.ctx, k, v, ttlMilliseconds) } }
        if rc != M2A_OK.rawValue { throw Self.error(rc) }
    }

    public func stateDelete(_ key: String) throws {
        let rc = withBorrowed(key) { api.pointee.state_delete(api.pointee.ctx, $0) }
        if rc != M2A_OK.rawValue { throw Self.error(rc) }
    }

    /// Takes the lock and returns its holder token, or nil when somebody else holds it.
    public func stateLock(_ key: String, ttlMilliseconds: UInt64) throws -> String? {
        var out = m2a_buf(ptr: nil, len: 0)
        let rc = withBorrowed(key) { api.pointee.state_lock(api.pointee.ctx, $0, ttlMilliseconds, &out) }
        switch rc {
        case M2A_OK.rawValue: return takeString(&out) ?? ""
        case M2A_ERR_BUSY.rawValue: return nil
        default: throw Self.error(rc)
        }
    }

    public func stateUnlock(_ key: String, token: String) throws {
        let rc = withBorrowed(key) { k in withBorrowed(token) { t in api.pointee.state_unlock(api.pointee.ctx, k, t) } }
        if rc != M2A_OK.rawValue { throw Self.error(rc) }
    }

    private func takeString(_ buf: inout m2a_buf) -> String? {
        defer { api.pointee.buf_free(api.pointee.ctx, &buf) }
        guard let ptr = buf.ptr else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: ptr, count: buf.len), as: UTF8.self)
    }

    private static func error(_ rc: Int32) -> StateError {
        switch rc {
        case M2A_ERR_BUSY.rawValue: return .busy
        case M2A_ERR_UNAVAILABLE.rawValue: return .unavailable
        default: return .failed(rc)
        }
    }
}

/// Lends `string`'s UTF-8 bytes to `body` as an `m2a_str` (valid only inside `body`).
@inline(__always)
public func withBorrowed<R>(_ string: String, _ body: (m2a_str) throws -> R) rethrows -> R {
    var copy = string
    return try copy.withUTF8 { utf8 in
        try body(m2a_str(ptr: UnsafeRawPointer(utf8.baseAddress)?.assumingMemoryBound(to: CChar.self), len: utf8.count))
    }
}
