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
    private var group: ServiceGroup?

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

    /// Runs the app in a service group, as the binary does, so tests can begin a graceful shutdown.
    func start(shutdownGrace: Duration = .seconds(30)) async throws {
        let listening = NIOLockedValueBox<Int?>(nil)
        let app = server.application { port in listening.withLockedValue { $0 = port } }
        var config = ServiceGroupConfiguration(services: [.init(service: app), .init(service: DrainWatcher(host: server))], logger: logs.logger)
        config.maximumGracefulShutdownDuration = shutdownGrace
        let group = ServiceGroup(configuration: config)
        self.group = group
        task = Task { try await group.run() }
        try await waitUntil(seconds: 60) { listening.withLockedValue { $0 } != nil }
        port = listening.withLockedValue { $0 } ?? 0
    }

    func stop() {
        task?.cancel()
    }

    func beginGracefulShutdown() async {
        await group?.triggerGracefulShutdown()
    }

    /// Waits for the service group to end; true when it did within `seconds`.
    func waitForExit(seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let task, task.isCancelled == false, await Self.finished(task) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    private static func finished(_ task: Task<Void, any Error>) async -> Bool {
        await withTaskGroup(of: Bool.self) { g in
            g.addTask { _ = try? await task.value; return true }
            g.addTask { try? await Task.sleep(for: .milliseconds(10)); return false }
            let first = await g.next()!
            g.cancelAll()
            return first
        }
    }

    var mockDriver: LoadedDriver { server.drivers.drivers["mock"]! }
}
