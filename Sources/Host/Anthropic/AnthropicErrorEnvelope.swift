import Hummingbird

/// Anthropic's error envelope, beside the OpenAI one (ClientError.openAIBody): the same statuses
/// (never 504/524, which new-api does not retry), with Anthropic's error types, so the Anthropic
/// SDKs raise the matching exception and Claude Code retries what is worth retrying.
extension ClientError {
    /// The Anthropic `error.type` for this status.
    var anthropicType: String {
        switch status {
        case 400: "invalid_request_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 503: "overloaded_error"
        default: "api_error"
        }
    }

    /// `{"type":"error","error":{"type":…,"message":…}}`. The field concerned, which this
    /// envelope has no place for, leads the message when the message does not name it already.
    var anthropicBody: [UInt8] {
        var text = message
        if let param, !message.contains(param) { text = "\(param): \(text)" }
        let error = JSONObject([("type", .string(anthropicType)), ("message", .string(text))])
        var out: [UInt8] = []
        JSONWriter.append(.object(JSONObject([("type", "error"), ("error", .object(error))])), to: &out)
        return out
    }
}

extension HTTPResponses {
    static func anthropicError(_ error: ClientError) -> Response {
        var response = json(error.anthropicBody, status: error.status)
        if let seconds = error.retryAfterSeconds { response.headers[.retryAfter] = String(seconds) }
        return response
    }
}
