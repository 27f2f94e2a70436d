import Foundation
import Hummingbird
import JSONCore

/// The site's login (managed token mode): credentials in, a bearer token and its lifetime out, the
/// lifetime stated in whichever shape `--token-shape` picks.
struct TokenRoutes: Sendable {
    let config: SimulatorConfig
    let state: SimulatorState

    func register(on router: Router<SimContext>, path: String) {
        router.post(RouterPath(path)) { request, _ in await login(request) }
    }

    func login(_ request: Request) async -> Response {
        // Counted on arrival, so concurrent logins show up even while they wait.
        state.countLogin()
        let bytes = await HTTPReplies.readBody(request)
        if config.loginDelayMs > 0 { try? await Task.sleep(for: .milliseconds(config.loginDelayMs)) }
        guard let bytes, let body = HTTPReplies.parseJSON(bytes), body.objectValue != nil else {
            return HTTPReplies.error(.badRequest, "body must be a JSON object")
        }
        guard body["username"]?.stringValue == config.username, body["password"]?.stringValue == config.password else {
            return HTTPReplies.error(.unauthorized, "invalid credentials")
        }
        let now = Date()
        let expires = now.addingTimeInterval(TimeInterval(config.tokenTTLSeconds))
        let token = config.tokenShape == .jwt ? Self.jwt(expires: expires) : Self.randomToken()
        state.issueToken(token, expires: expires)
        return HTTPReplies.json(.object(answer(token: token, expires: expires)))
    }

    private func answer(token: String, expires: Date) -> JSONObject {
        var out = JSONObject([("access_token", .string(token))])
        switch config.tokenShape {
        case .expiresIn: out["expires_in"] = JSONValue(integerLiteral: config.tokenTTLSeconds)
        case .expiresAt: out["expiresAt"] = JSONValue(integerLiteral: Int(expires.timeIntervalSince1970 * 1000))
        case .exp: out["exp"] = JSONValue(integerLiteral: Int(expires.timeIntervalSince1970))
        case .jwt, .none: break  // the JWT's own claim tells, or nothing does
        }
        return out
    }

    static func randomToken() -> String {
        var rng = SystemRandomNumberGenerator()
        return "sim_" + (0..<4).map { _ in String(rng.next() as UInt64, radix: 16) }.joined()
    }

    /// A JWT-shaped token: only the `exp` claim matters to a client; the signature is not real.
    static func jwt(expires: Date) -> String {
        let header = #"{"alg":"HS256","typ":"JWT"}"#
        let claims = #"{"sub":"site-sim","exp":\#(Int(expires.timeIntervalSince1970)),"jti":"\#(randomToken())"}"#
        return [base64url(header), base64url(claims), base64url("site-sim-signature")].joined(separator: ".")
    }

    static func base64url(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
