import DriverKit
import Foundation
import PluginABI

@_cdecl("mix2api_driver_entry")
public func mix2apiDriverEntry(_ major: UInt32, _ minor: UInt32, _ err: m2a_errbuf) -> UnsafePointer<m2a_driver_api>? {
    DriverExport.entry(MockDriver.self, name: "mock-upstream", version: "1.0.0", hostMajor: major, hostMinor: minor, err: err)
}

/// A deterministic scripted upstream with no network, for tests, demos and benchmarks. The
/// request's `model` picks the scenario (see `Scenario`); the config only tunes timings and sizes.
final class MockDriver: Driver {
    private let config: MockConfig
    private let host: HostServices
    private let registry = StreamRegistry()

    struct StreamAlreadyRunning: Error, CustomStringConvertible {
        let id: m2a_stream_id
        var description: String { "stream \(id) is already running" }
    }

    init(config: [String: Any], host: HostServices) throws {
        self.config = try MockConfig(json: config)
        self.host = host
    }

    var capabilities: DriverCapabilities {
        DriverCapabilities(streaming: true, nativeTools: false, reasoning: true)
    }

    func start(_ stream: DriverStream, request: Data) throws {
        let parsed = try MockRequest(request)
        let scenario = Scenario.select(model: parsed.bareModel)
        let script = config.faults.apply(to: scenario.script(for: parsed, config: config), scenario: scenario, request: parsed)
        let run = StreamRun(stream: stream, script: script, config: config) {
            [registry] id in registry.remove(id)
        }
        guard registry.insert(run) else { throw StreamAlreadyRunning(id: stream.id) }
        host.log(M2A_LOG_DEBUG, "scenario \(scenario.rawValue)", stream: stream.id)
        run.begin()
    }

    func cancel(_ stream: m2a_stream_id) {
        registry.lookup(stream)?.cancel()
    }

    var activeStreams: UInt64 { UInt64(registry.count) }
}
