import DriverKit
import Foundation
import PluginABI
import SiteProtocol

/// The SelfHostedSite driver: the ABI's face of SiteDriverCore. `start` hands the stream to the
/// worker queue at once (it must not block), or begins it itself when nothing in its first
/// attempt can block; `cancel` flags the run and stops its transfer.
final class SiteDriver: Driver, @unchecked Sendable {
    private let core: SiteDriverCore
    private let lock = NSLock()
    private var runs: [m2a_stream_id: SiteStreamRun] = [:]

    init(config: [String: Any], host: HostServices) throws {
        core = try SiteDriverCore(config: try SiteConfig(config), host: host)
    }

    deinit {
        core.engine.shutdown()
    }

    var capabilities: DriverCapabilities { DriverCapabilities(streaming: true, nativeTools: false, reasoning: true) }

    func start(_ stream: DriverStream, request: Data) throws {
        let context: SiteRequestContext
        do { context = try SiteRequestContext(Array(request)) } catch {
            throw error  // no events will come: the host reports a driver error
        }
        let run = SiteStreamRun(core: core, stream: stream, context: context) { [weak self] finished in
            guard let self else { return }
            _ = self.lock.withLock { self.runs.removeValue(forKey: finished.id) }
        }
        lock.withLock { runs[stream.id] = run }
        // The ABI forbids blocking here, so the first attempt goes to the worker queue, unless
        // nothing in it can block: then it runs now, which takes one thread hand-off (a wake-up on
        // a busy core) off the first token's path (README "Performance"). Retries always go
        // through the worker queue.
        if core.firstAttemptNeverBlocks(context) {
            run.begin()
        } else {
            core.worker.async { run.begin() }
        }
    }

    func cancel(_ stream: m2a_stream_id) {
        let run = lock.withLock { runs[stream] }
        run?.cancel()
    }

    var activeStreams: UInt64 { lock.withLock { UInt64(runs.count) } }
}

@_cdecl("mix2api_driver_entry")
public func mix2apiDriverEntry(_ major: UInt32, _ minor: UInt32, _ err: m2a_errbuf) -> UnsafePointer<m2a_driver_api>? {
    DriverExport.entry(SiteDriver.self, name: "self-hosted-site", version: "1.0.0", hostMajor: major, hostMinor: minor, err: err)
}
