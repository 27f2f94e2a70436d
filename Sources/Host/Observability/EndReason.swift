/// How a request ended: exactly one per request, from this fixed set. The SLOs are computed from
/// it (client_abort is excluded from every denominator).
public enum EndReason: String, Sendable, CaseIterable {
    case ok
    case clientAbort = "client_abort"
    case timeout
    case upstreamError = "upstream_error"
    case upstreamAuthError = "upstream_auth_error"
    case rateLimited = "rate_limited"
    case invalidRequest = "invalid_request"
    case authError = "auth_error"
    case adapterError = "adapter_error"
    case driverError = "driver_error"
    case unavailable
    /// A request that ended without being classified: a bug in the host, counted so the SLO
    /// "attribution" can see it (it must stay 0). Access records start with it.
    case unknown
    /// The client read slower than the answer came and its stream outgrew the per-stream buffer
    /// (`MIX2API_STREAM_BUFFER_BYTES`): the answer was given up. The client's doing, like an abort.
    case clientTooSlow = "client_too_slow"
}

/// The one place that maps failures to what the client sees (client-contracts.md, "Errors").
/// Never 504 or 524: new-api does not retry those.
public struct ClientError: Error, Sendable {
    public var status: Int
    public var type: String
    public var code: String
    public var message: String
    public var param: String?
    public var endReason: EndReason
    public var retryAfterSeconds: Int?

    public init(status: Int, type: String, code: String, message: String, param: String? = nil, endReason: EndReason, retryAfterSeconds: Int? = nil) {
        self.status = status
        self.type = type
        self.code = code
        self.message = message
        self.param = param
        self.endReason = endReason
        self.retryAfterSeconds = retryAfterSeconds
    }

    public init(_ failure: DriverFailure) {
        let message = Redactor.redact(failure.message.isEmpty ? "the upstream failed without a message" : failure.message)
        switch failure.kind {
        case .upstream:
            self.init(status: 502, type: "upstream_error", code: "upstream_error", message: message, endReason: .upstreamError)
        case .upstreamAuth:
            self.init(status: 503, type: "upstream_error", code: "upstream_auth_error", message: message, endReason: .upstreamAuthError)
        case .rateLimited:
            let seconds = failure.retryAfterMilliseconds > 0 ? (failure.retryAfterMilliseconds + 999) / 1000 : 1
            self.init(status: 429, type: "rate_limit_error", code: "rate_limited", message: message, endReason: .rateLimited, retryAfterSeconds: seconds)
        case .timeout:
            self.init(status: 503, type: "timeout_error", code: "upstream_timeout", message: message, endReason: .timeout)
        case .unavailable:
            self.init(status: 503, type: "upstream_error", code: "upstream_unavailable", message: message, endReason: .upstreamError)
        case .invalidRequest:
            self.init(status: 400, type: "invalid_request_error", code: "invalid_request", message: message, endReason: .invalidRequest)
        case .contextLength:
            self.init(status: 400, type: "invalid_request_error", code: "context_length_exceeded", message: message, endReason: .invalidRequest)
        case .driver:
            self.init(status: 500, type: "server_error", code: "driver_error", message: message, endReason: .driverError)
        }
    }

    public init(_ invalid: InvalidRequest) {
        self.init(
            status: invalid.status, type: "invalid_request_error", code: invalid.code ?? (invalid.status == 413 ? "request_too_large" : "invalid_request"),
            message: invalid.message, param: invalid.param, endReason: .invalidRequest)
    }

    static func timeout(_ what: String) -> ClientError {
        ClientError(status: 503, type: "timeout_error", code: "upstream_timeout", message: what, endReason: .timeout)
    }

    static let shuttingDown = ClientError(
        status: 503, type: "server_error", code: "shutting_down", message: "this instance is shutting down; retry the request", endReason: .unavailable)

    static func tooSlow(budget: Int) -> ClientError {
        ClientError(
            status: 503, type: "server_error", code: "client_too_slow",
            message: "the client read the stream too slowly: more than \(budget) bytes were waiting for it", endReason: .clientTooSlow)
    }

    static func driverBroke(_ what: String) -> ClientError {
        ClientError(status: 500, type: "server_error", code: "driver_error", message: what, endReason: .driverError)
    }

    /// The OpenAI envelope: {"error":{"message","type","code","param"}}.
    var openAIBody: [UInt8] {
        var e = JSONObject([("message", .string(message)), ("type", .string(type)), ("code", .string(code))])
        e["param"] = param.map { .string($0) } ?? .null
        var out: [UInt8] = []
        JSONWriter.append(.object(JSONObject([("error", .object(e))])), to: &out)
        return out
    }
}
