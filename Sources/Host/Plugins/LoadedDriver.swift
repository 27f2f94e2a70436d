import Foundation
import PluginABI

/// A driver library that passed negotiation and made an instance. The host talks to drivers only
/// through this type. The library is never unloaded: a driver's threads may outlive a request,
/// and dlclose under them would crash the process.
public final class LoadedDriver: @unchecked Sendable {
    public struct Capabilities: Sendable {
        public var streaming: Bool
        public var nativeTools: Bool
        public var reasoning: Bool
        public var maxConcurrentStreams: Int
    }

    public let name: String            // the name plugins.json gives it
    public let reportedName: String    // the name the library reports
    public let buildVersion: String
    public let path: String
    public let capabilities: Capabilities
    let bridge: HostBridge
    private let api: UnsafePointer<m2a_driver_api>
    private let instance: OpaquePointer

    init(name: String, path: String, api: UnsafePointer<m2a_driver_api>, instance: OpaquePointer, bridge: HostBridge) {
        self.name = name
        self.path = path
        self.api = api
        self.instance = instance
        self.bridge = bridge
        reportedName = String(cString: api.pointee.name)
        buildVersion = String(cString: api.pointee.build_version)
        var caps = m2a_capabilities(struct_size: UInt32(MemoryLayout<m2a_capabilities>.size), flags: 0, max_concurrent_streams: 0)
        api.pointee.capabilities(instance, &caps)
        capabilities = Capabilities(
            streaming: caps.flags & M2A_CAP_STREAMING.rawValue != 0,
            nativeTools: caps.flags & M2A_CAP_NATIVE_TOOLS.rawValue != 0,
            reasoning: caps.flags & M2A_CAP_REASONING.rawValue != 0,
            maxConcurrentStreams: Int(caps.max_concurrent_streams))
    }

    /// Registers `sink` and starts the driver stream. Returns the stream id, or nil when the driver
    /// refused to start (then no event will ever come).
    func start(sink: EventSink, requestJSON: [UInt8]) -> UInt64? {
        let id = bridge.registry.register(sink)
        let rc = requestJSON.withUnsafeBufferPointer { buf in
            api.pointee.start(instance, id, m2a_str(ptr: UnsafeRawPointer(buf.baseAddress)?.assumingMemoryBound(to: CChar.self), len: buf.count))
        }
        if rc != M2A_OK.rawValue {
            bridge.registry.remove(id)
            return nil
        }
        return id
    }

    func cancel(_ id: UInt64) {
        api.pointee.cancel(instance, id)
    }

    public var activeStreams: UInt64 { api.pointee.active_streams(instance) }

    /// Streams the host still waits on for a terminal event.
    public var hostOpenStreams: Int { bridge.registry.count }

    public var protocolViolations: Int { bridge.violations.withLockedValue { $0 } }

    public var counters: [String: UInt64] { bridge.counters.snapshot }
}
