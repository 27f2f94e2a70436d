import Foundation

/// `plugins.json`: which drivers to load and which models go to which driver.
///
///     {
///       "drivers": { "mock": { "path": "libMockUpstream.so", "config": { "delta_delay_ms": "${MOCK_DELAY_MS:-0}" } } },
///       "routes": [ { "model": "mock-short", "driver": "mock" }, { "prefix": "mock-", "driver": "mock" } ],
///       "default_driver": "mock"
///     }
///
/// A `path` without a slash is looked up in MIX2API_DRIVER_DIR, else beside the mix2api
/// executable; a relative path with a slash is relative to the plugins.json file.
public struct PluginsFile: Sendable {
    public struct DriverEntry: Sendable {
        public var name: String
        public var path: String
        public var configJSON: String
    }

    public struct Route: Sendable {
        public enum Match: Sendable, Equatable {
            case model(String)
            case prefix(String)
        }
        public var match: Match
        public var driver: String
    }

    public var source: String
    public var drivers: [DriverEntry]
    public var routes: [Route]
    public var defaultDriver: String?

    /// The configuration used when no plugins.json is given or found: the mock driver for all.
    public static let embeddedDefault = """
        {
          "drivers": { "mock": { "path": "libMockUpstream.so", "config": {} } },
          "routes": [ { "prefix": "mock", "driver": "mock" } ],
          "default_driver": "mock"
        }
        """

    public static func load(path: String, environment: [String: String], driverDirectory: String) throws(PluginLoadError) -> PluginsFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PluginLoadError(file: path, field: "(file)", problem: "cannot read the file (does it exist?)")
        }
        let base = (path as NSString).deletingLastPathComponent
        return try parse(Array(data), source: path, baseDirectory: base.isEmpty ? "." : base, environment: environment, driverDirectory: driverDirectory)
    }

    public static func parse(
        _ bytes: [UInt8], source: String, baseDirectory: String, environment: [String: String], driverDirectory: String
    ) throws(PluginLoadError) -> PluginsFile {
        func fail(_ field: String, _ problem: String) -> PluginLoadError { PluginLoadError(file: source, field: field, problem: problem) }
        let root: JSONValue
        do { root = try JSONParser.parse(bytes) } catch { throw fail("(file)", error.description) }
        guard let top = root.objectValue else { throw fail("(file)", "must be a JSON object") }
        for key in top.keys where !["drivers", "routes", "default_driver", "$comment"].contains(key) {
            throw fail(key, "unknown field (expected drivers, routes, default_driver)")
        }
        guard let driversObject = top["drivers"]?.objectValue, !driversObject.isEmpty else {
            throw fail("drivers", "must be a non-empty object of driver name → {path, config}")
        }
        var drivers: [DriverEntry] = []
        for (name, value) in driversObject.entries {
            let field = "drivers.\(name)"
            guard let entry = value.objectValue else { throw fail(field, "must be an object with path and config") }
            for key in entry.keys where !["path", "config", "$comment"].contains(key) { throw fail("\(field).\(key)", "unknown field (expected path, config)") }
            guard let rawPath = entry["path"]?.stringValue, !rawPath.isEmpty else { throw fail("\(field).path", "must be a non-empty string") }
            let path: String
            do { path = try EnvSubstitution.substitute(rawPath, environment: environment).stringValue ?? rawPath } catch {
                throw fail("\(field).path", error.description)
            }
            let config = entry["config"] ?? .object(JSONObject())
            guard config.objectValue != nil else { throw fail("\(field).config", "must be an object") }
            let substituted: JSONValue
            do { substituted = try EnvSubstitution.substituteAll(config, environment: environment, field: "\(field).config") } catch {
                throw fail(error.field, error.problem)
            }
            drivers.append(DriverEntry(name: name, path: resolve(path, base: baseDirectory, driverDirectory: driverDirectory), configJSON: substituted.serialized))
        }
        let names = Set(drivers.map(\.name))
        var routes: [Route] = []
        if let routesValue = top["routes"] {
            guard let list = routesValue.arrayValue else { throw fail("routes", "must be an array") }
            for (i, item) in list.enumerated() {
                let field = "routes[\(i)]"
                guard let r = item.objectValue else { throw fail(field, "must be an object") }
                for key in r.keys where !["model", "prefix", "driver", "$comment"].contains(key) { throw fail("\(field).\(key)", "unknown field (expected model or prefix, and driver)") }
                guard let driver = r["driver"]?.stringValue else { throw fail("\(field).driver", "must be a string naming a driver") }
                guard names.contains(driver) else { throw fail("\(field).driver", "no driver named \"\(driver)\" in drivers") }
                switch (r["model"]?.stringValue, r["prefix"]?.stringValue) {
                case (let m?, nil) where !m.isEmpty: routes.append(Route(match: .model(m), driver: driver))
                case (nil, let p?) where !p.isEmpty: routes.append(Route(match: .prefix(p), driver: driver))
                default: throw fail(field, "needs exactly one of model or prefix, as a non-empty string")
                }
            }
        }
        var defaultDriver: String?
        if let d = top["default_driver"] {
            guard let name = d.stringValue else { throw fail("default_driver", "must be a string") }
            guard names.contains(name) else { throw fail("default_driver", "no driver named \"\(name)\" in drivers") }
            defaultDriver = name
        }
        if routes.isEmpty && defaultDriver == nil { throw fail("routes", "no routes and no default_driver: no model could be served") }
        return PluginsFile(source: source, drivers: drivers, routes: routes, defaultDriver: defaultDriver)
    }

    static func resolve(_ path: String, base: String, driverDirectory: String) -> String {
        if path.hasPrefix("/") { return path }
        if !path.contains("/") { return (driverDirectory as NSString).appendingPathComponent(path) }
        return (base as NSString).appendingPathComponent(path)
    }

    /// Every environment variable the file refers to (so start-up can tell which .env names are used).
    public static func referencedVariables(in bytes: [UInt8]) -> Set<String> {
        EnvSubstitution.references(in: String(decoding: bytes, as: UTF8.self))
    }
}
