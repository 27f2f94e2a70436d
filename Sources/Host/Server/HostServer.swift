import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// Everything a route needs, built once at start-up.
public final class HostServer: Sendable {
    public let config: HostConfig
    public let drivers: DriverSet
    public let state: any StateStore
    let logger: Logger
    let auth: InboundAuth
    let limits: ChatExchange.Limits
    private let draining = NIOLockedValueBox(false)
    let inFlight: InFlightStreams
    /// The process's registry: access records, driver bridges and the state decorator record
    /// there too, so one instance per process is all there is.
    public let metrics = HostMetrics.shared
    /// The sampled trace capture, when MIX2API_TRACE_SAMPLE_PERCENT is above 0.
    let traces: TraceRecorder?

    public init(config: HostConfig, drivers: DriverSet, state: any StateStore, logger: Logger) {
        self.config = config
        self.drivers = drivers
        self.state = state
        self.logger = logger
        self.inFlight = InFlightStreams(gauge: HostMetrics.shared.streamsInFlight)
        self.traces = config.trace.directory.flatMap { dir in
            config.trace.enabled ? TraceRecorder(directory: dir, samplePercent: config.trace.samplePercent, logger: logger) : nil
        }
        self.auth = InboundAuth(mode: config.authMode, tokens: config.bearerTokens)
        self.limits = .init(
            firstEvent: .milliseconds(Int64(config.firstEventTimeoutMs)), idle: .milliseconds(Int64(config.idleTimeoutMs)),
            total: .milliseconds(Int64(config.totalTimeoutMs)), keepAlive: .milliseconds(Int64(config.keepAliveMs)),
            bufferBytes: config.streamBufferBytes)
    }

    public var isDraining: Bool { draining.withLockedValue { $0 } }
    func startDraining() { draining.withLockedValue { $0 = true } }

    /// The request body, bounded by BODY_SIZE_LIMIT (413 past it, before reading it all when
    /// Content-Length already says so). Not inlined: its frame is the largest of the route's, and
    /// inlined it would stay in the task's allocator for the whole stream (see `ChatRoute.handle`).
    @inline(never)
    func readBody(_ request: Request) async -> Result<[UInt8], ClientError> {
        let limit = config.bodyLimitBytes
        let tooLarge = ClientError(
            status: 413, type: "invalid_request_error", code: "request_too_large",
            message: "request body exceeds BODY_SIZE_LIMIT (\(limit) bytes)", endReason: .invalidRequest)
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { return .failure(tooLarge) }
        var bytes: [UInt8] = []
        do {
            for try await var buffer in request.body {
                if bytes.count + buffer.readableBytes > limit { return .failure(tooLarge) }
                bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
            }
        } catch {
            return .failure(ClientError(status: 400, type: "invalid_request_error", code: "body_read_failed", message: "could not read the request body", endReason: .clientAbort))
        }
        return .success(bytes)
    }

    /// The Hummingbird application with every route, ready to run.
    public func application(onListening: @escaping @Sendable (Int) -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: HostRequestContext.self)
        router.middlewares.add(HostMiddlewares(trace: TraceMiddleware(recorder: traces, logHeaders: config.logHeaders, logger: logger)))
        let chat = ChatRoute(host: self, dialect: OpenAIChatDialect())
        router.post("/v1/chat/completions") { request, context in await chat.handle(request, context: context) }
        router.post("/chat/completions") { request, context in await chat.handle(request, context: context) }
        router.post("/") { request, context in await chat.handle(request, context: context) }
        let messages = ChatRoute(host: self, dialect: AnthropicMessagesDialect())
        let countTokens = CountTokensRoute(host: self)
        router.post("/v1/messages") { request, context in await messages.handle(request, context: context) }
        router.post("/v1/messages/count_tokens") { request, context in await countTokens.handle(request, context: context) }
        let status = StatusRoutes(host: self)
        router.get("/v1/models") { request, context in status.models(request) }
        router.get("/models") { request, context in status.models(request) }
        router.get("/health") { _, _ in status.health() }
        router.get("/ready") { _, _ in status.ready() }
        router.get("/metrics") { _, _ in MetricsEndpoint.respond(host: self) }
        return Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [ConnectionWatchHandler()])),
            // Thousands of agents connecting at once must queue, not be refused (Hummingbird's default
            // backlog is 256; the kernel caps it at net.core.somaxconn).
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: nil, backlog: 4096),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Runs until SIGTERM/SIGINT; then stops accepting, lets streams finish for up to
    /// MIX2API_SHUTDOWN_GRACE_MS, and cancels what is left.
    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let app = application(onListening: onListening)
        let drainWatcher = DrainWatcher(host: self)
        var groupConfig = ServiceGroupConfiguration(services: [.init(service: app), .init(service: drainWatcher)], logger: logger)
        groupConfig.gracefulShutdownSignals = [.sigterm, .sigint]
        groupConfig.maximumGracefulShutdownDuration = .milliseconds(config.shutdownGraceMs)
        try await ServiceGroup(configuration: groupConfig).run()
    }
}

/// Marks the host as draining the moment graceful shutdown begins (/ready then says 503), and
/// ends the streams still running shortly before the grace period does, while they can still
/// write their error chunk.
public struct DrainWatcher: Service {
    let host: HostServer

    public init(host: HostServer) {
        self.host = host
    }

    public func run() async throws {
        try? await gracefulShutdown()
        host.startDraining()
        host.logger.info("shutting down: no new requests, waiting for streams in flight", metadata: ["in_flight": .stringConvertible(host.inFlight.count)])
        let grace = host.config.shutdownGraceMs
        let margin = min(1000, grace / 5)
        // Returns as soon as nothing is in flight, so a quiet instance stops at once.
        let deadline = ContinuousClock.now + .milliseconds(grace - margin)
        while host.inFlight.count > 0, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if host.inFlight.count > 0 {
            host.logger.warning("shutdown grace ending: stopping the streams still running", metadata: ["in_flight": .stringConvertible(host.inFlight.count)])
            host.inFlight.signalShutdown()
        }
    }
}
