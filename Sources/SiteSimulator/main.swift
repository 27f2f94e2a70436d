import ArgumentParser
import Foundation
import Hummingbird
import Logging

/// `site-sim`: a stand-in for the self-hosted chat site (see docs/upstream-site-protocol.md), for
/// tests, demos and benchmarks. Faults are chosen per request by markers in the user's text, so a
/// test drives them through the very message it sends.
struct SiteSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "site-sim",
        abstract: "Simulates the self-hosted chat site: login, chat (UI message stream), fault modes, /sim inspection.")

    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind; 0 picks a free one (read it from the listening line).") var port = 0
    @Option(help: "Lifetime of issued tokens.") var tokenTtlSeconds = 3600
    @Option(help: "How the login answer states the lifetime: expires_in|expiresAt|exp|jwt|none.") var tokenShape: TokenShape = .expiresIn
    @Option(help: "Accepted login user name.") var username = "admin"
    @Option(help: "Accepted login password.") var password = "secret"
    @Option(help: "A token that is always valid (repeatable); /sim/expire-tokens leaves it alone.") var staticToken: [String] = []
    @Flag(help: "The chat endpoint needs no token.") var noAuth = false
    @Option(help: "Pause between deltas, in ms.") var deltaDelayMs = 0
    @Flag(help: "Write SSE bytes in random 1–7 byte pieces, each flushed on its own.") var splitWrites = false
    @Option(help: "Delay before answering a login, in ms.") var loginDelayMs = 0
    @Option(help: "Sessions remembered; past that the oldest is forgotten (continuing it answers 404).") var maxSessions = 10_000
    @Option(help: "Chat endpoint path.") var chatPath = "/v2/chats"
    @Option(help: "Login endpoint path.") var tokenPath = "/v2/token"

    func validate() throws {
        guard maxSessions >= 1 else { throw ValidationError("--max-sessions must be at least 1") }
    }

    func run() async throws {
        // Hummingbird logs to stdout by default; stdout is reserved for the one listening line.
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "site-sim")
        logger.logLevel = .warning

        let config = SimulatorConfig(
            tokenTTLSeconds: tokenTtlSeconds, tokenShape: tokenShape, username: username, password: password,
            staticTokens: Set(staticToken), noAuth: noAuth, deltaDelayMs: deltaDelayMs, splitWrites: splitWrites,
            loginDelayMs: loginDelayMs, maxSessions: maxSessions)
        let state = SimulatorState(config: config)
        let router = Router(context: SimContext.self)
        TokenRoutes(config: config, state: state).register(on: router, path: tokenPath)
        ChatRoutes(config: config, state: state).register(on: router, path: chatPath)
        InspectionRoutes(state: state).register(on: router)
        // The direct OpenAI-compatible baseline for the benchmark (bench/run.sh).
        OpenAIRoutes().register(on: router)

        // A test double has nothing to drain: stop at once on SIGTERM/SIGINT, with exit code 0.
        let stopSignals: [Int32] = [SIGTERM, SIGINT]
        for sig in stopSignals { signal(sig, SIG_IGN) }
        let signalSources = stopSignals.map { sig in
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { Foundation.exit(0) }
            source.resume()
            return source
        }
        defer { signalSources.forEach { $0.cancel() } }

        let boundHost = host
        let app = Application(
            router: router,
            // The capacity run opens thousands of upstream connections at once through mix2api; with
            // Hummingbird's default backlog of 256 the simulator dropped SYNs and connects timed out.
            configuration: .init(address: .hostname(host, port: port), serverName: nil, backlog: 4096),
            onServerRunning: { channel in
                print("site-sim listening on \(boundHost):\(channel.localAddress?.port ?? 0)")
                fflush(nil)
            },
            logger: logger)
        try await app.run()
    }
}

extension TokenShape: ExpressibleByArgument {}

/// Top-level code would pick ParsableCommand's synchronous `main()`; inside an async function the
/// async overload (which awaits `run()`) wins.
func runSiteSim() async { await SiteSim.main() }

await runSiteSim()
