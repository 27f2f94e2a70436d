/// An `http://host:port/path` URL, the only kind the bench speaks (loopback benchmarks need no TLS).
struct TargetURL: Sendable, CustomStringConvertible {
    var host: String
    var port: Int
    var path: String

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    init(_ text: String) throws {
        guard text.hasPrefix("http://") else { throw Invalid(description: "--url: only http:// URLs are supported, got '\(text)'") }
        let rest = text.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        path = slash == rest.endIndex ? "/" : String(rest[slash...])
        if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else {
                throw Invalid(description: "--url: bad port in '\(text)'")
            }
            port = p
        } else {
            host = String(authority)
            port = 80
        }
        guard !host.isEmpty else { throw Invalid(description: "--url: no host in '\(text)'") }
        // A base URL (…/v1) means its chat completions endpoint.
        if path == "/" || path.hasSuffix("/v1") || path.hasSuffix("/v1/") {
            path = (path.hasSuffix("/") ? String(path.dropLast()) : path) + (path == "/" ? "/v1/chat/completions" : "/chat/completions")
        }
    }

    var description: String { "http://\(host):\(port)\(path)" }
}
