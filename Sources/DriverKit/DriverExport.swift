import Foundation
import PluginABI

/// Builds the ABI's driver table for a Swift `Driver` type. A driver module exports its entry
/// point with two lines:
///
///     @_cdecl("mix2api_driver_entry")
///     public func entry(_ major: UInt32, _ minor: UInt32, _ err: m2a_errbuf) -> UnsafePointer<m2a_driver_api>? {
///         DriverExport.entry(MyDriver.self, name: "my-driver", version: "1.0.0", hostMajor: major, hostMinor: minor, err: err)
///     }
///
/// Each driver library carries its own copy of this module, so the globals below are per driver.
public enum DriverExport {
    /// The factory of the driver type this library exports (set once, by `entry`).
    nonisolated(unsafe) private static var factory: (([String: Any], HostServices) throws -> any Driver)?
    nonisolated(unsafe) private static var table: UnsafeMutablePointer<m2a_driver_api>?
    private static let lock = NSLock()

    public static func entry<D: Driver>(
        _ type: D.Type, name: StaticString, version: StaticString,
        hostMajor: UInt32, hostMinor: UInt32, err: m2a_errbuf
    ) -> UnsafePointer<m2a_driver_api>? {
        guard hostMajor == M2A_ABI_VERSION_MAJOR else {
            m2a_errbuf_set(
                err,
                "driver \(name) implements ABI \(M2A_ABI_VERSION_MAJOR).\(M2A_ABI_VERSION_MINOR), host speaks \(hostMajor).\(hostMinor): major versions differ")
            return nil
        }
        return lock.withLock {
            if let table { return UnsafePointer(table) }
            factory = { try D(config: $0, host: $1) }
            let t = UnsafeMutablePointer<m2a_driver_api>.allocate(capacity: 1)  // lives while loaded
            t.initialize(to: m2a_driver_api(
                struct_size: UInt32(MemoryLayout<m2a_driver_api>.size),
                abi_major: M2A_ABI_VERSION_MAJOR,
                abi_minor: M2A_ABI_VERSION_MINOR,
                name: UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self),
                build_version: UnsafeRawPointer(version.utf8Start).assumingMemoryBound(to: CChar.self),
                create: createThunk,
                destroy: destroyThunk,
                capabilities: capabilitiesThunk,
                start: startThunk,
                cancel: cancelThunk,
                active_streams: activeStreamsThunk))
            table = t
            return UnsafePointer(t)
        }
    }

    /// The instance handed to the host: a retained box around the Swift driver.
    final class Instance {
        let driver: any Driver
        let host: HostServices
        init(driver: any Driver, host: HostServices) {
            self.driver = driver
            self.host = host
        }
    }

    static func instance(_ p: OpaquePointer?) -> Instance? {
        guard let p else { return nil }
        return Unmanaged<Instance>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
    }

    private static let createThunk: @convention(c) (UnsafePointer<m2a_host_api>?, m2a_str, m2a_errbuf) -> OpaquePointer? = { host, config, err in
        guard let host, let factory = DriverExport.factory else {
            m2a_errbuf_set(err, "driver was created without a host table")
            return nil
        }
        let services = HostServices(api: host)
        let text = config.ptr.map { Data(bytes: $0, count: config.len) } ?? Data("{}".utf8)
        do {
            guard let object = try JSONSerialization.jsonObject(with: text) as? [String: Any] else {
                m2a_errbuf_set(err, "config: must be a JSON object")
                return nil
            }
            let driver = try factory(object, services)
            let box = Instance(driver: driver, host: services)
            return OpaquePointer(Unmanaged.passRetained(box).toOpaque())
        } catch let error as DriverConfigError {
            m2a_errbuf_set(err, error.description)
        } catch {
            m2a_errbuf_set(err, "config: \(error)")
        }
        return nil
    }

    private static let destroyThunk: @convention(c) (OpaquePointer?) -> Void = { p in
        guard let p else { return }
        Unmanaged<Instance>.fromOpaque(UnsafeRawPointer(p)).release()
    }

    private static let capabilitiesThunk: @convention(c) (OpaquePointer?, UnsafeMutablePointer<m2a_capabilities>?) -> Void = { p, out in
        guard let box = DriverExport.instance(p), let out else { return }
        let caps = box.driver.capabilities
        var flags: UInt32 = 0
        if caps.streaming { flags |= M2A_CAP_STREAMING.rawValue }
        if caps.nativeTools { flags |= M2A_CAP_NATIVE_TOOLS.rawValue }
        if caps.reasoning { flags |= M2A_CAP_REASONING.rawValue }
        // Only write what the host's struct has room for.
        if out.pointee.struct_size >= UInt32(MemoryLayout<m2a_capabilities>.size) {
            out.pointee.flags = flags
            out.pointee.max_concurrent_streams = caps.maxConcurrentStreams
        } else if out.pointee.struct_size >= 8 {
            out.pointee.flags = flags
        }
    }

    private static let startThunk: @convention(c) (OpaquePointer?, m2a_stream_id, m2a_str) -> Int32 = { p, id, request in
        guard let box = DriverExport.instance(p) else { return M2A_ERR_INVALID.rawValue }
        let body = request.ptr.map { Data(bytes: $0, count: request.len) } ?? Data()
        do {
            try box.driver.start(DriverStream(id: id, host: box.host), request: body)
            return M2A_OK.rawValue
        } catch {
            box.host.log(M2A_LOG_ERROR, "start failed: \(error)", stream: id)
            return M2A_ERR_INTERNAL.rawValue
        }
    }

    private static let cancelThunk: @convention(c) (OpaquePointer?, m2a_stream_id) -> Void = { p, id in
        DriverExport.instance(p)?.driver.cancel(id)
    }

    private static let activeStreamsThunk: @convention(c) (OpaquePointer?) -> UInt64 = { p in
        DriverExport.instance(p)?.driver.activeStreams ?? 0
    }
}
