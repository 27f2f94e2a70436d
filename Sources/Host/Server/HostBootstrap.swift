import Foundation
import NIOCore
import Logging

/// Start-up: environment → configuration → state store → drivers → server. Every failure comes
/// back as one message naming the setting or the plugins.json field.
public enum HostBootstrap {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        /// Printed to stderr as is: redacted here, since a rejected value may be a credential
        /// (a URL with a password, a malformed login body).
        public init(description: String) {
            self.description = Redactor.redact(description)
        }
    }

    public static func makeServer(processEnvironment: [String: String], currentDirectory: String, executableDirectory: String) throws(Failure) -> HostServer {
        let (env, envFile) = EnvironmentFile.merged(process: processEnvironment, currentDirectory: currentDirectory)
        let config: HostConfig
        do { config = try HostConfig.load(from: env, executableDirectory: executableDirectory) } catch { throw Failure(description: "configuration: \(error)") }

        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: Logger.Level(rawValue: config.logLevel) ?? .info) }
        var logger = Logger(label: "mix2api")
        logger.logLevel = Logger.Level(rawValue: config.logLevel) ?? .info

        let file: PluginsFile
        var pluginsBytes: [UInt8] = []
        do {
            if let path = config.pluginsPath ?? defaultPluginsPath(currentDirectory) {
                pluginsBytes = Array(FileManager.default.contents(atPath: path) ?? Data())
                file = try PluginsFile.load(path: path, environment: env, driverDirectory: config.driverDirectory)
            } else {
                pluginsBytes = Array(PluginsFile.embeddedDefault.utf8)
                file = try PluginsFile.parse(pluginsBytes, source: "(embedded default plugins.json)", baseDirectory: currentDirectory, environment: env, driverDirectory: config.driverDirectory)
            }
        } catch { throw Failure(description: error.description) }

        // Every secret this instance was given is redacted by value from here on (Redactor).
        for key in config.bearerTokens { SecretRegistry.register(key) }
        for driver in file.drivers { if let c = try? JSONParser.parse(driver.configJSON) { SecretRegistry.registerCredentials(in: c) } }
        if let password = config.state.redisURL?.password { SecretRegistry.register(password) }
        if config.trace.enabled, let dir = config.trace.directory {
            do { try TraceRecorder.prepare(dir) } catch { throw Failure(description: "configuration: \(error)") }
        }

        let state = MeteredStateStore(makeStateStore(config.state, logger: logger))
        HostMetrics.shared.bootstrapSwiftMetrics()
        let drivers: DriverSet
        do { drivers = try DriverSet.load(file, state: state, logger: logger) } catch { throw Failure(description: error.description) }

        let ignored = EnvironmentFile.ignoredNames(env: env, usedByPlugins: PluginsFile.referencedVariables(in: pluginsBytes))
        if !ignored.isEmpty {
            logger.notice("settings from the old .env that nothing reads are ignored", metadata: ["ignored": .array(ignored.map { .string($0) })])
        }
        logger.info("starting", metadata: [
            "version": .string(BuildInfo.version),
            "listen": .string("\(config.host):\(config.port)"),
            "plugins": .string(file.source),
            "env_file": .string(envFile ?? "(none)"),
            "inbound_auth": .string(config.authMode.rawValue),
            // One per CPU the process may use (EventLoopSizing); Hummingbird serves on NIO's singleton group.
            "event_loops": .stringConvertible(NIOSingletons.groupLoopCountSuggestion),
            "drivers": .array(drivers.drivers.values.map { .string("\($0.name)=\($0.reportedName)@\($0.buildVersion)") }),
        ])
        return HostServer(config: config, drivers: drivers, state: state, logger: logger)
    }

    /// Memory, or Redis with its in-memory fallback. An unreachable Redis does not stop start-up:
    /// the instance serves on the fallback (degraded) and switches to Redis when it answers.
    static func makeStateStore(_ s: StateSettings, logger: Logger) -> any StateStore {
        guard s.usesRedis, let url = s.redisURL else {
            logger.info("state store: in memory (this instance only)", metadata: ["mode": .string(s.mode.rawValue)])
            return MemoryStateStore()
        }
        let store = RedisStateStore(
            .init(url: url, prefix: s.prefix, connectTimeoutMs: s.connectTimeoutMs, commandTimeoutMs: s.commandTimeoutMs, maxConnections: s.poolSize),
            logger: logger)
        store.ping()
        logger.info("state store: redis", metadata: [
            "redis": .string(url.redacted), "prefix": .string(s.prefix), "mode": .string(s.mode.rawValue),
            "degraded": .string(store.degradedReason ?? "no"),
        ])
        return store
    }

    static func defaultPluginsPath(_ currentDirectory: String) -> String? {
        let path = (currentDirectory as NSString).appendingPathComponent("plugins.json")
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }
}
