import JSONCore

/// Decides, from the start of the site's HTTP answer, whether it is an answer to read or a failure
/// to report. Failure messages reach the client, so they hold at most a short, cleaned excerpt of
/// what the site sent (the body may echo request data), never the raw body.
public enum SiteResponseClassifier {
    /// The longest excerpt of a site's error body that goes into a message.
    public static let maxExcerpt = 200
    /// How much of the body is searched for error codes such as `session_not_found`.
    static let searchWindow = 4096
    /// A `Retry-After` beyond this is treated as this: the client should come back, not give up.
    static let maxRetryAfterMs = 3_600_000

    /// nil when the answer should be read (a 2xx event stream or JSON), else the failure.
    /// `body` is whatever of the body has arrived (the whole of it for an error status).
    public static func classify(status: Int, contentType: String?, body: [UInt8], retryAfter: String?, nowMs: Int64) -> SiteFailure? {
        let mime = mediaType(contentType)
        if (200..<300).contains(status) {
            if mime == "text/event-stream" || isJSON(mime) { return nil }
            if mime == nil || mime == "" {
                // No content type: let the body decide, unless it is visibly an HTML page.
                return looksLikeHTML(body) ? SiteFailure(kind: .upstream, message: "the site answered \(status) with an HTML page instead of an answer", upstreamStatus: status) : nil
            }
            return SiteFailure(kind: .upstream, message: "the site answered \(status) with \(mime!.truncated(to: 60)) instead of an answer", upstreamStatus: status)
        }

        let detail = errorDetail(body: body, mime: mime, status: status)
        let searchable = String(decoding: body.prefix(searchWindow), as: UTF8.self)
        func failure(_ kind: SiteFailureKind, _ fallback: String, retryAfterMs: Int = 0) -> SiteFailure {
            SiteFailure(kind: kind, message: detail ?? fallback, upstreamStatus: status, retryAfterMs: retryAfterMs)
        }

        switch status {
        case 401, 403:
            return failure(.upstreamAuth, "the site refused the credentials (status \(status))")
        case 429:
            let wait = retryAfter.flatMap { retryAfterMs($0, nowMs: nowMs) } ?? 0
            return failure(.rateLimited, "the site is rate limiting (status 429)", retryAfterMs: wait)
        default: break
        }
        // The site says the session is gone (whatever the status): the driver starts a fresh one.
        if status == 404 || SiteErrorText.mentionsUnknownSession(searchable) {
            return failure(.sessionNotFound, "the site does not know this session (status \(status))")
        }
        if status == 413 || ((400..<500).contains(status) && SiteErrorText.mentionsContextLength(searchable)) {
            return failure(.contextLength, "the conversation is too long for the site (status \(status))")
        }
        if status == 400 || status == 422 {
            return failure(.invalidRequest, "the site rejected the request (status \(status))")
        }
        return failure(.upstream, "the site failed (status \(status))")
    }

    /// `Retry-After` as delay-seconds or an HTTP date, in milliseconds from now (never negative).
    public static func retryAfterMs(_ value: String, nowMs: Int64) -> Int? {
        let text = value.trimmingWhitespace()
        if let seconds = Double(text), seconds.isFinite {
            return Int(min(max(0, seconds * 1000), Double(maxRetryAfterMs)))
        }
        guard let at = HTTPDate.parseMs(text) else { return nil }
        return Int(min(max(0, at - nowMs), Int64(maxRetryAfterMs)))
    }

    /// The message the site put in its error body, cleaned and cut to `maxExcerpt` characters;
    /// nil when the body has none (empty, or JSON without a message field).
    public static func errorDetail(body: [UInt8], mime: String?, status: Int) -> String? {
        let prefix = body.prefix(64 * 1024)
        if let json = try? JSONParser.parse(prefix), case .object = json {
            let message = json["error"]?.firstString("message", "msg", "error_description", "detail")
                ?? json.firstString("message", "msg", "error", "error_description", "detail")
            return message.map { $0.collapsingWhitespace().truncated(to: maxExcerpt) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        if looksLikeHTML(body) || mime == "text/html" { return "HTML error page (status \(status))" }
        let text = String(decoding: body.prefix(4 * maxExcerpt * 4), as: UTF8.self).collapsingWhitespace()
        return text.isEmpty ? nil : text.truncated(to: maxExcerpt)
    }

    /// `text/html; charset=utf-8` → `text/html`.
    static func mediaType(_ contentType: String?) -> String? {
        guard let contentType else { return nil }
        return contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first.map { String($0).trimmingWhitespace().lowercased() }
    }

    static func isJSON(_ mime: String?) -> Bool {
        guard let mime else { return false }
        return mime == "application/json" || mime.hasSuffix("+json")
    }

    static func looksLikeHTML(_ body: [UInt8]) -> Bool {
        let head = String(decoding: body.prefix(512), as: UTF8.self).trimmingWhitespace().lowercased()
        return head.hasPrefix("<!doctype") || head.hasPrefix("<html") || head.hasPrefix("<head") || head.hasPrefix("<body")
            || (head.hasPrefix("<") && head.contains("<html"))
    }
}
