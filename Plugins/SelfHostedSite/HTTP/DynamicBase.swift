import Foundation

/// The per-request upstream base (`x-upstream-base-url` header or `upstream_base_url` body field):
/// off unless enabled; the host must be on the allowlist; http and private or loopback addresses
/// only when allowed — checked on the addresses the name resolves to, and the transfer is pinned
/// to the checked address so a second DNS answer cannot swap it.
struct DynamicBase {
    let enabled: Bool
    let allowlist: [String]
    let allowHTTP: Bool
    let allowPrivate: Bool

    struct Resolved {
        var base: String
        /// For CURLOPT_RESOLVE: "host:port:address".
        var pin: String
    }

    enum Refusal: Error, CustomStringConvertible {
        case disabled, malformed(String), notAllowed(String), insecure(String), privateAddress(String), unresolvable(String)
        var description: String {
            switch self {
            case .disabled: "a per-request upstream base URL was sent, but UPSTREAM_DYNAMIC_BASE_ENABLED is off"
            case .malformed(let u): "the upstream base URL \"\(u)\" is not an http(s) URL"
            case .notAllowed(let h): "the upstream host \(h) is not in UPSTREAM_BASE_ALLOWLIST"
            case .insecure(let u): "the upstream base URL \(u) is plain http and UPSTREAM_BASE_ALLOW_HTTP is off"
            case .privateAddress(let h): "the upstream host \(h) resolves to a private or loopback address and UPSTREAM_BASE_ALLOW_PRIVATE is off"
            case .unresolvable(let h): "the upstream host \(h) does not resolve"
            }
        }
    }

    func resolve(_ raw: String) throws(Refusal) -> Resolved {
        guard enabled else { throw .disabled }
        guard let url = URL(string: raw), let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased(), ["http", "https"].contains(scheme) else {
            throw .malformed(raw)
        }
        if scheme == "http", !allowHTTP { throw .insecure(raw) }
        guard allowlist.contains(where: { Self.matches(host: host, pattern: $0) }) else { throw .notAllowed(host) }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        let addresses = Self.addresses(of: host)
        guard let first = addresses.first else { throw .unresolvable(host) }
        if !allowPrivate, addresses.contains(where: Self.isPrivate) { throw .privateAddress(host) }
        let base = raw.hasSuffix("/") ? String(raw.dropLast()) : raw
        let pinned = first.contains(":") ? "[\(first)]" : first
        return Resolved(base: base, pin: "\(host):\(port):\(pinned)")
    }

    static func matches(host: String, pattern: String) -> Bool {
        if pattern.hasPrefix("*.") { return host.hasSuffix(String(pattern.dropFirst(1))) }
        return host == pattern
    }

    static func addresses(of host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let head = result else { return [] }
        defer { freeaddrinfo(head) }
        var out: [String] = []
        var p: UnsafeMutablePointer<addrinfo>? = head
        while let ai = p {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(ai.pointee.ai_addr, ai.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                out.append(String(cString: buffer))
            }
            p = ai.pointee.ai_next
        }
        return out
    }

    /// Loopback, RFC 1918, link-local, CGNAT, unique-local and unspecified addresses.
    static func isPrivate(_ address: String) -> Bool {
        let a = address.lowercased()
        if a.contains(":") {
            return a == "::1" || a == "::" || a.hasPrefix("fc") || a.hasPrefix("fd") || a.hasPrefix("fe80") || a.hasPrefix("::ffff:127.")
                || a.hasPrefix("::ffff:10.") || a.hasPrefix("::ffff:192.168.")
        }
        let o = a.split(separator: ".").compactMap { Int($0) }
        guard o.count == 4 else { return true }
        switch (o[0], o[1]) {
        case (127, _), (10, _), (0, _), (192, 168), (169, 254): return true
        case (172, 16...31), (100, 64...127): return true
        default: return false
        }
    }
}
