import Foundation
import Logging
import PluginABI

/// A driver that could not be loaded, with the place in plugins.json that names it.
public struct PluginLoadError: Error, CustomStringConvertible {
    public let file: String
    public let field: String
    public let problem: String
    public var description: String { "\(file): \(field): \(problem)" }
}

/// dlopen + version negotiation + create. Each step fails with a message naming file and field.
enum DriverLoader {
    static func load(
        name: String, path: String, configJSON: String, file: String, registry: StreamRegistry, state: any StateStore, logger: Logger
    ) throws(PluginLoadError) -> LoadedDriver {
        func fail(_ field: String, _ problem: String) -> PluginLoadError {
            PluginLoadError(file: file, field: "drivers.\(name).\(field)", problem: problem)
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw fail("path", "no such file: \(path) (build the drivers with `swift build`)")
        }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw fail("path", "cannot load \(path): \(String(cString: dlerror()))")
        }
        guard let symbol = dlsym(handle, M2A_DRIVER_ENTRY_SYMBOL) else {
            throw fail("path", "\(path) is not a mix2api driver: it does not export the entry symbol \(M2A_DRIVER_ENTRY_SYMBOL)")
        }
        let entry = unsafeBitCast(symbol, to: m2a_driver_entry_fn.self)
        var message = [CChar](repeating: 0, count: 1024)
        let table = message.withUnsafeMutableBufferPointer { buf in
            entry(M2A_ABI_VERSION_MAJOR, M2A_ABI_VERSION_MINOR, m2a_errbuf(ptr: buf.baseAddress, cap: buf.count))
        }
        guard let table else {
            let why = String(cString: message)
            throw fail("path", "the driver refused ABI \(M2A_ABI_VERSION_MAJOR).\(M2A_ABI_VERSION_MINOR): \(why.isEmpty ? "no reason given" : why)")
        }
        let t = table.pointee
        guard t.abi_major == M2A_ABI_VERSION_MAJOR else {
            throw fail("path", "the driver implements ABI \(t.abi_major).\(t.abi_minor), this host speaks \(M2A_ABI_VERSION_MAJOR).\(M2A_ABI_VERSION_MINOR): major versions differ")
        }
        guard t.struct_size >= UInt32(MemoryLayout<m2a_driver_api>.size) else {
            throw fail("path", "the driver table is \(t.struct_size) bytes, smaller than ABI 1.0's \(MemoryLayout<m2a_driver_api>.size)")
        }
        guard t.name != nil, t.build_version != nil else {
            throw fail("path", "the driver table has no name or build_version")
        }
        let hasNull = t.create == nil || t.destroy == nil || t.capabilities == nil || t.start == nil || t.cancel == nil || t.active_streams == nil
        guard !hasNull else { throw fail("path", "the driver table has a NULL function") }

        let bridge = HostBridge(driverName: name, registry: registry, state: state, logger: logger)
        let instance = message.withUnsafeMutableBufferPointer { buf in
            var config = configJSON
            return config.withUTF8 { utf8 in
                t.create(
                    UnsafePointer(bridge.table),
                    m2a_str(ptr: UnsafeRawPointer(utf8.baseAddress)?.assumingMemoryBound(to: CChar.self), len: utf8.count),
                    m2a_errbuf(ptr: buf.baseAddress, cap: buf.count))
            }
        }
        guard let instance else {
            let why = String(cString: message)
            throw fail("config", "the driver rejected its configuration: \(why.isEmpty ? "no reason given" : why)")
        }
        return LoadedDriver(name: name, path: path, api: table, instance: instance, bridge: bridge)
    }
}
