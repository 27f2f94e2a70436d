import Foundation
@testable import Host

/// A real redis-server on a free loopback port, for the state tests (the test command's CI step
/// installs redis-server; a missing binary fails the test, it does not skip it).
///
/// Spawned with posix_spawn and reaped with waitpid, not Foundation's Process: its termination
/// monitor and our waitpid race for the child, and on Linux that race can spin a core forever.
final class RedisServer: @unchecked Sendable {
    let port: Int
    private let extraArguments: [String]
    private var pid: pid_t = 0

    init(extraArguments: [String] = []) throws {
        port = Self.freePort()
        self.extraArguments = extraArguments
        try start()
    }

    static var binary: String? {
        ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func start() throws {
        guard let binary = Self.binary else { throw RedisServerError("redis-server is not installed (apt-get install redis-server)") }
        let args = [binary, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no", "--loglevel", "warning", "--logfile", ""] + extraArguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let cArgs = args.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, binary, &actions, nil, cArgs, environ)
        guard rc == 0 else { throw RedisServerError("posix_spawn redis-server failed: \(rc)") }
        pid = child
        // Ready when it accepts connections.
        for _ in 0..<250 {
            if Self.accepts(port) { return }
            usleep(20_000)
        }
        stop()
        throw RedisServerError("redis-server did not start on \(port)")
    }

    /// SIGKILL and reap: a crash-like stop, which is what the fallback tests want.
    func stop() {
        guard pid > 0 else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = 0
    }

    deinit { stop() }

    /// SIGSTOP / SIGCONT: a Redis that accepts connections (the kernel does) but never answers.
    func freeze() { kill(pid, SIGSTOP) }
    func thaw() { kill(pid, SIGCONT) }

    /// Reads a server's own counter through a connection of its own.
    func connectedClients() throws -> Int {
        let url = try RedisURL("redis://127.0.0.1:\(port)")
        let c = try RedisConnection.open(.init(url: url, prefix: "")).get()
        guard case .string(let info) = try c.run(["INFO", "clients"]).get(),
            let line = info.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("connected_clients:") }),
            let n = Int(line.dropFirst("connected_clients:".count).trimmingCharacters(in: .whitespaces))
        else { throw RedisServerError("no connected_clients in INFO") }
        return n - 1  // without this connection
    }

    /// A port the kernel just handed out (closed again at once; redis binds it right after).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }
}

struct RedisServerError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
