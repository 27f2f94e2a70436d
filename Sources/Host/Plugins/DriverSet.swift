import Logging

/// The loaded drivers and the model routes of plugins.json.
public final class DriverSet: Sendable {
    public let drivers: [String: LoadedDriver]
    let routes: [PluginsFile.Route]
    let defaultDriver: String?
    public let source: String

    init(drivers: [String: LoadedDriver], file: PluginsFile) {
        self.drivers = drivers
        self.routes = file.routes
        self.defaultDriver = file.defaultDriver
        self.source = file.source
    }

    /// Loads every driver of `file`; the first failure stops start-up with its message.
    public static func load(_ file: PluginsFile, state: any StateStore, logger: Logger) throws(PluginLoadError) -> DriverSet {
        var loaded: [String: LoadedDriver] = [:]
        for entry in file.drivers {
            let driver = try DriverLoader.load(
                name: entry.name, path: entry.path, configJSON: entry.configJSON, file: file.source,
                registry: StreamRegistry(), state: state, logger: logger)
            loaded[entry.name] = driver
        }
        return DriverSet(drivers: loaded, file: file)
    }

    /// The driver for a model: exact routes first, then the longest prefix, then the default.
    /// A `provider/` prefix is tried with and without.
    public func driver(for model: String) -> LoadedDriver? {
        var candidates = [model]
        if let slash = model.lastIndex(of: "/") { candidates.append(String(model[model.index(after: slash)...])) }
        for name in candidates {
            if let r = routes.first(where: { $0.match == .model(name) }) { return drivers[r.driver] }
        }
        for name in candidates {
            var best: (length: Int, driver: String)?
            for r in routes {
                if case .prefix(let p) = r.match, name.hasPrefix(p), p.count > (best?.length ?? -1) { best = (p.count, r.driver) }
            }
            if let best { return drivers[best.driver] }
        }
        return defaultDriver.flatMap { drivers[$0] }
    }

    /// True when an exact or prefix route (not the default driver) takes the model.
    public func routesExplicitly(_ model: String) -> Bool {
        var candidates = [model]
        if let slash = model.lastIndex(of: "/") { candidates.append(String(model[model.index(after: slash)...])) }
        return candidates.contains { name in
            routes.contains { r in
                switch r.match {
                case .model(let m): m == name
                case .prefix(let p): name.hasPrefix(p)
                }
            }
        }
    }

    /// Models named exactly in routes (for /v1/models).
    public var routedModels: [String] {
        routes.compactMap { if case .model(let m) = $0.match { m } else { nil } }
    }
}
