import Foundation

/// `REDIS_URL`: `redis://[:password@]host[:port][/db]` (or `user:password@`). TLS (`rediss://`)
/// is refused with a clear message: Debian's hiredis 0.14 has no TLS.
public struct RedisURL: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var password: String?
    public var database: Int

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init(_ text: String) throws(Invalid) {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased() else {
            throw Invalid(description: "REDIS_URL: not a URL (expected redis://host:port/db)")
        }
        if scheme == "rediss" {
            throw Invalid(description: "REDIS_URL: rediss:// (TLS) is not supported by this build's hiredis 0.14; use a TLS-terminating proxy or redis://")
        }
        guard scheme == "redis" else { throw Invalid(description: "REDIS_URL: scheme must be redis://, got \(scheme)://") }
        guard let host = url.host, !host.isEmpty else { throw Invalid(description: "REDIS_URL: no host") }
        self.host = host
        port = url.port ?? 6379
        password = url.password.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding }
        let path = url.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if path.isEmpty {
            database = 0
        } else if let db = Int(path), db >= 0 {
            database = db
        } else {
            throw Invalid(description: "REDIS_URL: the database must be a number, got \"\(path)\"")
        }
    }

    /// For logs: host, port and database, never the password.
    public var redacted: String { "redis://\(password == nil ? "" : "***@")\(host):\(port)/\(database)" }
}
