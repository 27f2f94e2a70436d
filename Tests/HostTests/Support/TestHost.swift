import Foundation
import Testing
import Hummingbird
import NIOConcurrencyHelpers
import ServiceLifecycle
@testable import Host

/// A real host on a loopback port inside the test process, so tests can look at its driver
/// and connection tables while real HTTP runs against it.
final class TestHost: @unchecked Sendable {
    let server: HostServer
    let logs = LogCapture()
    private(set) var port = 0
    private var task: Task<Void, any Error>?

    init(plugins: String, env: [String: String] = [:]) throws {
        var environment = ["PORT": "0"]
        for (k, v) in env { environment[k] = v }
        let config = try HostConfig.load(from: environment, executableDirectory: BuildProducts.directory)
        let file = try PluginsFile.parse(Array(plugins.utf8), source: "test-plugins.json", baseDirectory: ".", environment: environment, driverDirectory: BuildProducts.directory)
        let state = MemoryStateStore()
        let drivers = try DriverSet.load(file, state: state, logger: logs.logger)
        server = HostServer(config: config, drivers: drivers, state: state, logger: logs.logger)
    }

    static func mock(config: String = "{}", env: [String: String] = [:]) throws -> TestHost {
        try TestHost(plugins: #"{"drivers":{"mock":{"path":"libMockUpstream.so","config":\#(config)}},"default_driver":"mock"}"#, env: env)
    }

    func start() async throws {
        let listening = NIOLockedValueBox<Int?>(nil)
        let app = server.application { port in listening.withLockedValue { $0 = port } }
        task = Task { try await app.runService(gracefulShutdownSignals: []) }
        try await waitUntil { listening.withLockedValue { $0 } != nil }
        port = listening.withLockedValue { $0 } ?? 0
    }

    func stop() {
        task?.cancel()
    }

    var mockDriver: LoadedDriver { server.drivers.drivers["mock"]! }
}
