import Foundation
import PluginABI
import Testing
@testable import Host

/// Every broken plugins.json stops start-up with a message naming the file and the field.
@Suite struct StartupFailureTests {
    static func load(_ json: String, env: [String: String] = [:]) throws(PluginLoadError) -> DriverSet {
        let file = try PluginsFile.parse(Array(json.utf8), source: "plugins.json", baseDirectory: "/tmp", environment: env, driverDirectory: BuildProducts.directory)
        return try DriverSet.load(file, state: MemoryStateStore(), logger: LogCapture().logger)
    }

    static func failure(_ json: String, env: [String: String] = [:]) -> PluginLoadError? {
        do {
            _ = try load(json, env: env)
            return nil
        } catch { return error }
    }

    @Test func missingLibraryFile() throws {
        let e = try #require(Self.failure(#"{"drivers":{"site":{"path":"/nowhere/libSite.so"}},"default_driver":"site"}"#))
        #expect(e.file == "plugins.json")
        #expect(e.field == "drivers.site.path")
        #expect(e.problem.contains("no such file: /nowhere/libSite.so"))
    }

    @Test func fileThatIsNotALibrary() throws {
        let notELF = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-driver-\(UUID().uuidString).so")
        try Data("hello".utf8).write(to: notELF)
        let e = try #require(Self.failure(#"{"drivers":{"x":{"path":"\#(notELF.path)"}},"default_driver":"x"}"#))
        #expect(e.field == "drivers.x.path")
        #expect(e.problem.contains("cannot load"))
    }

    @Test func libraryWithoutTheEntrySymbol() throws {
        // libHost? No: any shared library that is not a driver. libc is always there.
        let libc = ["/lib/x86_64-linux-gnu/libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6", "/usr/lib64/libc.so.6"].first { FileManager.default.fileExists(atPath: $0) }
        let path = try #require(libc)
        let e = try #require(Self.failure(#"{"drivers":{"c":{"path":"\#(path)"}},"default_driver":"c"}"#))
        #expect(e.field == "drivers.c.path")
        #expect(e.problem.contains("does not export the entry symbol mix2api_driver_entry"))
    }

    @Test func incompatibleABIVersion() throws {
        setenv("CFIXTURE_FAKE_ABI_MAJOR", "2", 1)
        defer { unsetenv("CFIXTURE_FAKE_ABI_MAJOR") }
        let e = try #require(Self.failure(#"{"drivers":{"c":{"path":"libCFixtureDriver.so"}},"default_driver":"c"}"#))
        #expect(e.field == "drivers.c.path")
        // The fixture fakes only the major version; the minor is the ABI's own on both sides.
        let minor = M2A_ABI_VERSION_MINOR
        #expect(e.problem.contains("ABI 2.\(minor)") && e.problem.contains("speaks 1.\(minor)"), "\(e)")
    }

    @Test func configTheDriverRejects() throws {
        let e = try #require(Self.failure(#"{"drivers":{"mock":{"path":"libMockUpstream.so","config":{"dleta_delay_ms":5}}},"default_driver":"mock"}"#))
        #expect(e.field == "drivers.mock.config")
        #expect(e.problem.contains("dleta_delay_ms"))
    }

    @Test func structuralMistakesNameTheirField() {
        let cases: [(String, String)] = [
            ("{", "(file)"),
            (#"[]"#, "(file)"),
            (#"{"drivers":{}}"#, "drivers"),
            (#"{"drivers":{"m":{"path":"libMockUpstream.so"}},"routes":[{"prefix":"a","driver":"nope"}]}"#, "routes[0].driver"),
            (#"{"drivers":{"m":{"path":"libMockUpstream.so"}},"routes":[{"driver":"m"}]}"#, "routes[0]"),
            (#"{"drivers":{"m":{"path":"libMockUpstream.so"}}}"#, "routes"),
            (#"{"drivers":{"m":{"path":"libMockUpstream.so"}},"default_driver":"x"}"#, "default_driver"),
            (#"{"drivers":{"m":{"path":"libMockUpstream.so","confg":{}}},"default_driver":"m"}"#, "drivers.m.confg"),
            (#"{"drivers":{"m":{"path":"libMockUpstream.so","config":{"k":"${NOT_SET_ANYWHERE}"}}},"default_driver":"m"}"#, "drivers.m.config.k"),
        ]
        for (json, field) in cases {
            let e = Self.failure(json)
            #expect(e?.field == field, "\(json) → \(String(describing: e))")
        }
    }

    @Test func environmentSubstitution() throws {
        let env = ["DELAY": "3", "NAME": "abc", "EMPTY": ""]
        #expect(try EnvSubstitution.substitute("${DELAY}", environment: env) == .number("3"))
        #expect(try EnvSubstitution.substitute("${MISSING:-7}", environment: env) == .number("7"))
        #expect(try EnvSubstitution.substitute("${MISSING:-true}", environment: env) == .bool(true))
        #expect(try EnvSubstitution.substitute("x-${NAME}-${DELAY}", environment: env) == .string("x-abc-3"))
        #expect(try EnvSubstitution.substitute("${EMPTY:-fallback}", environment: env) == .string("fallback"))
        #expect(try EnvSubstitution.substitute("${NAME}", environment: env) == .string("abc"))
        #expect(PluginsFile.referencedVariables(in: Array(#"{"a":"${UPSTREAM_API_BASE}","b":"${X:-1}"}"#.utf8)) == ["UPSTREAM_API_BASE", "X"])
    }

    @Test func badSettingsNameTheSetting() {
        let cases: [([String: String], String)] = [
            (["PORT": "http"], "PORT"),
            (["INBOUND_AUTH_MODE": "basic"], "INBOUND_AUTH_MODE"),
            (["INBOUND_AUTH_MODE": "bearer"], "INBOUND_BEARER_TOKEN"),
            (["MIX2API_HOST": "0.0.0.0"], "INBOUND_BEARER_TOKEN"),
            (["BODY_SIZE_LIMIT": "huge"], "BODY_SIZE_LIMIT"),
            (["LOG_BODIES": "maybe"], "LOG_BODIES"),
            (["MIX2API_KEEPALIVE_MS": "5"], "MIX2API_KEEPALIVE_MS"),
        ]
        for (env, setting) in cases {
            #expect(throws: HostConfig.Invalid.self) { try HostConfig.load(from: env, executableDirectory: "/") }
            do { _ = try HostConfig.load(from: env, executableDirectory: "/") } catch { #expect(error.setting == setting) }
        }
        let ok = try? HostConfig.load(from: ["INBOUND_BEARER_TOKEN": "a, b", "BODY_SIZE_LIMIT": "1.5mb", "MIX2API_HOST": "0.0.0.0"], executableDirectory: "/")
        #expect(ok?.authMode == .bearer)
        #expect(ok?.bearerTokens == ["a", "b"])
        #expect(ok?.bodyLimitBytes == 1_572_864)
    }

    @Test func oldEnvNamesNobodyReadsAreReported() {
        let env = ["UPSTREAM_API_BASE": "https://site", "DEFAULT_PERSONA_ID": "p", "REDIS_URL": "redis://x", "PORT": "1", "UNRELATED": "1"]
        #expect(EnvironmentFile.ignoredNames(env: env, usedByPlugins: ["UPSTREAM_API_BASE"]) == ["DEFAULT_PERSONA_ID"])
        let parsed = EnvironmentFile.parse("# comment\nexport A=1\nB = \"two words\"\nC='x' \nD=plain # note\n")
        #expect(parsed == ["A": "1", "B": "two words", "C": "x", "D": "plain"])
    }

    @Test func stateSettingsNameTheBadSettingAndNeverThePassword() throws {
        let cases: [([String: String], String, String)] = [
            (["SESSION_STORE_MODE": "disk"], "SESSION_STORE_MODE", "auto, redis or memory"),
            (["SESSION_STORE_MODE": "redis"], "REDIS_URL", "required when SESSION_STORE_MODE=redis"),
            (["REDIS_URL": "rediss://:pw-tls@cache:6380"], "REDIS_URL", "TLS"),
            (["REDIS_URL": "redis://:pw-db@cache/notanumber"], "REDIS_URL", "database must be a number"),
            (["REDIS_URL": "redis://x", "REDIS_CONNECT_TIMEOUT_MS": "0"], "REDIS_CONNECT_TIMEOUT_MS", "from 10"),
            (["REDIS_URL": "redis://x", "REDIS_COMMAND_TIMEOUT_MS": "soon"], "REDIS_COMMAND_TIMEOUT_MS", "integer"),
            (["REDIS_URL": "redis://x", "REDIS_POOL_SIZE": "0"], "REDIS_POOL_SIZE", "from 1"),
            (["REDIS_SESSION_PREFIX": "a b"], "REDIS_SESSION_PREFIX", "spaces"),
        ]
        for (env, setting, words) in cases {
            do {
                _ = try HostConfig.load(from: env, executableDirectory: "/")
                Issue.record("\(env) was accepted")
            } catch {
                #expect(error.setting == setting)
                #expect(error.description.contains(words), "\(error)")
                #expect(!error.description.contains("pw-"), "a password in an error: \(error)")
            }
        }
        let defaults = try HostConfig.load(from: [:], executableDirectory: "/").state
        #expect(defaults.mode == .auto && !defaults.usesRedis && defaults.prefix == "mix2api:session" && defaults.connectTimeoutMs == 2000)
        let auto = try HostConfig.load(from: ["REDIS_URL": "redis://:pw@cache:6380/4"], executableDirectory: "/").state
        #expect(auto.usesRedis && auto.redisURL?.database == 4 && auto.redisURL?.redacted == "redis://***@cache:6380/4")
        let memory = try HostConfig.load(from: ["REDIS_URL": "redis://cache", "SESSION_STORE_MODE": "MEMORY"], executableDirectory: "/").state
        #expect(!memory.usesRedis, "memory wins over a REDIS_URL that is set")
    }
}
