import Foundation
import HTTPTypes
import Hummingbird
import JSONCore

/// The chat endpoint: auth, body checks, faults, sessions, then the answer streamed as the UI
/// message stream or as JSON.
struct ChatRoutes: Sendable {
    let config: SimulatorConfig
    let state: SimulatorState

    func register(on router: Router<SimContext>, path: String) {
        router.post(RouterPath(path)) { request, context in await chat(request, context: context) }
    }

    func chat(_ request: Request, context: SimContext) async -> Response {
        let authorization = request.headers[.authorization]
        let bytes = await HTTPReplies.readBody(request) ?? []
        let body = HTTPReplies.parseJSON(bytes)
        state.recordChat(recorded(body: body, bytes: bytes, request: request))

        // Auth comes first, as on the real site: an expired token hides every other problem.
        if !config.noAuth {
            let token = authorization.flatMap(Self.bearerToken)
            guard let token, state.isValid(token: token) else {
                return HTTPReplies.error(.unauthorized, "token expired or invalid")
            }
        }

        let validated: Validated
        switch Self.validate(body) {
        case .success(let v): validated = v
        case .failure(let problem): return HTTPReplies.error(.badRequest, problem.message)
        }
        let faults: Faults
        do {
            faults = try Faults.parse(validated.query)
        } catch {
            let known = FaultMode.allCases.map(\.rawValue).joined(separator: ", ")
            return HTTPReplies.error(.badRequest, "site-sim: unknown fault '\(error.name)' (known: \(known))")
        }
        if let failure = Self.httpFailure(for: faults) { return failure }

        let sessionID: String
        let turnNumber: Int
        var earlier: [String] = []
        if let requested = validated.sessionID {
            guard let continued = state.continueSession(requested, query: validated.query) else {
                return HTTPReplies.error(.notFound, "session not found")
            }
            (sessionID, turnNumber, earlier) = (requested, continued.turn, continued.earlier)
        } else {
            (sessionID, turnNumber) = (state.startSession(query: validated.query), 1)
        }
        let plan = ReplyPlan(
            turn: .init(query: validated.query, sessionID: sessionID, turn: turnNumber, earlier: earlier),
            exchangeID: UUID().uuidString.lowercased(), faults: faults, deltaDelayMs: config.deltaDelayMs)

        if let paced = await pacedAnswer(plan, query: validated.query, stream: validated.stream, context: context) { return paced }
        let writer = UIStreamWriter(
            crlf: faults.has(.crlf), comments: faults.has(.comments), splitWrites: config.splitWrites, channel: context.channel)
        if validated.stream || faults.has(.sseForNonstream) {
            let steps = plan.streamSteps()
            var headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
            headers[HTTPReplies.uiMessageStreamHeader] = "v1"
            return Response(status: .ok, headers: headers, body: ResponseBody { body in try await writer.write(steps, to: &body) })
        }
        return await jsonAnswer(plan, faults: faults, writer: writer)
    }

    /// `stream:false`. Timing faults delay the whole answer; `disconnect` cuts the JSON in half.
    private func jsonAnswer(_ plan: ReplyPlan, faults: Faults, writer: UIStreamWriter) async -> Response {
        var delay = faults.has(.slowFirst) ? faults.number(.slowFirst) : 0
        if faults.has(.stall) { delay += faults.number(.stall) }
        if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
        guard faults.has(.disconnect) else { return HTTPReplies.json(plan.jsonBody()) }
        let text = plan.jsonBody().serialized
        let half = String(text.prefix(text.count / 2))
        let plain = UIStreamWriter(channel: writer.channel)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody { body in
            try await plain.write([.raw(half), .disconnect], to: &body)
        })
    }

    /// The faults that replace the whole response, checked before the session moves on.
    static func httpFailure(for faults: Faults) -> Response? {
        if faults.has(.http401) { return HTTPReplies.error(.unauthorized, "token expired or invalid") }
        if faults.has(.http403) { return HTTPReplies.error(.forbidden, "forbidden: token revoked") }
        if faults.has(.http429) {
            var headers = HTTPFields()
            headers[HTTPReplies.retryAfter] = String(faults.number(.http429))
            return HTTPReplies.error(.tooManyRequests, "rate limited, slow down", extra: headers)
        }
        if faults.has(.http500) { return HTTPReplies.error(.internalServerError, "internal") }
        if faults.has(.http502HTML) {
            let page = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n"
            return HTTPReplies.text(page, status: .badGateway, contentType: "text/html")
        }
        if faults.has(.unknownSession) { return HTTPReplies.error(.notFound, "session not found") }
        if faults.has(.nonSSE200) { return HTTPReplies.text("<html>oops</html>", status: .ok, contentType: "text/html") }
        return nil
    }

    // MARK: request checks

    struct Validated {
        var query: String
        var modelSlug: String
        var sessionID: String?
        var stream: Bool
    }

    struct Problem: Error { let message: String }

    static func validate(_ body: JSONValue?) -> Result<Validated, Problem> {
        guard let body, body.objectValue != nil else { return .failure(Problem(message: "body must be a JSON object")) }
        guard let inner = body["request"], inner.objectValue != nil else {
            return .failure(Problem(message: "request is required (an object)"))
        }
        guard let query = inner["query"]?.stringValue else { return .failure(Problem(message: "request.query is required (a string)")) }
        guard let model = inner["model_slug"]?.stringValue, !model.isEmpty else {
            return .failure(Problem(message: "request.model_slug is required (a non-empty string)"))
        }
        var sessionID: String?
        switch body["session_id"] {
        case nil, .null?: sessionID = nil
        case .string(let s)?: sessionID = s
        default: return .failure(Problem(message: "session_id must be a string"))
        }
        // Only an explicit `false` asks for JSON: the site streams by default.
        let stream = body["stream"]?.boolValue ?? true
        return .success(Validated(query: query, modelSlug: model, sessionID: sessionID, stream: stream))
    }

    static func bearerToken(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    /// The body as /sim/stats shows it: the JSON object as received, plus the headers a test
    /// wants to check (`_authorization` exactly as sent, `_headers` all of them).
    private func recorded(body: JSONValue?, bytes: [UInt8], request: Request) -> JSONValue {
        var object = body?.objectValue ?? JSONObject([("_unparsed_body", .string(String(decoding: bytes, as: UTF8.self)))])
        object["_authorization"] = request.headers[.authorization].map(JSONValue.string) ?? .null
        var headers = JSONObject()
        for field in request.headers {
            let name = field.name.canonicalName
            if let existing = headers[name]?.stringValue {
                headers[name] = .string(existing + ", " + field.value)
            } else {
                headers[name] = .string(field.value)
            }
        }
        object["_headers"] = .object(headers)
        return .object(object)
    }
}
