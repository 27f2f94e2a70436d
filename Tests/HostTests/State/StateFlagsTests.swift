import DriverKit
import Foundation
import PluginABI
import Testing
@testable import Host

/// ABI 1.1's `state_flags`: drivers learn whether the host's state calls can block, because only
/// when they cannot may a driver call them from `start` (the site driver then skips a thread hop).
@Suite struct StateFlagsTests {
    static func services(_ state: any StateStore) throws -> (LoadedDriver, Bool) {
        let driver = try DriverHarness.load(BuildProducts.cDriver, config: #"{"deltas": 1}"#, state: state)
        return (driver, HostServices(api: driver.bridge.table).stateNeverBlocks)
    }

    @Test func memoryStateNeverBlocksAndRedisMay() throws {
        #expect(try Self.services(MemoryStateStore()).1)
        #expect(try Self.services(MeteredStateStore(MemoryStateStore())).1)
        // Constructing the store does not connect; what matters is that it may.
        let redis = RedisStateStore(.init(url: try RedisURL("redis://127.0.0.1:1/0"), prefix: "flags", connectTimeoutMs: 100, commandTimeoutMs: 100), logger: LogCapture().logger)
        #expect(try !Self.services(MeteredStateStore(redis)).1)
    }

    /// A 1.0 host's table ends before the flags: a driver must not read past it, and must assume
    /// the calls may block.
    @Test func aTableWithoutTheFlagsMeansStateMayBlock() throws {
        let (driver, _) = try Self.services(MemoryStateStore())
        var table = driver.bridge.table.pointee
        #expect(table.abi_minor >= 1 && table.state_flags == M2A_STATE_NEVER_BLOCKS.rawValue)
        table.struct_size = UInt32(MemoryLayout<m2a_host_api>.offset(of: \.state_flags)!)
        withUnsafePointer(to: &table) { #expect(!HostServices(api: $0).stateNeverBlocks) }
    }
}
