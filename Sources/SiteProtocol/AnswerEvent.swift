/// What the driver emits to the host, one level above the C ABI's `m2a_event` (the driver maps
/// these one-to-one onto ABI events). Kept free of ABI types so this target stays pure and testable.
public enum AnswerEvent: Sendable, Equatable {
    case upstreamStatus(Int)
    /// The site's conversation ids: `id` goes into `session_id` on the next turn.
    case session(id: String, exchange: String)
    case text(String)
    case reasoning(String)
    case toolCallStart(index: Int, id: String, name: String)
    case toolCallArguments(index: Int, String)
    case toolCallEnd(index: Int)
    case usage(prompt: Int, completion: Int)
    /// Terminal: the answer is complete.
    case finish(AnswerFinish)
    /// Terminal: the answer failed.
    case failure(SiteFailure)

    public var isTerminal: Bool {
        switch self {
        case .finish, .failure: true
        default: false
        }
    }
}

public enum AnswerFinish: String, Sendable, Equatable {
    case stop, length, toolCalls = "tool_calls", contentFilter = "content_filter"
}

/// The ABI's error kinds that the site can cause (`DRIVER` is the driver's own bug, not the site's).
public enum SiteFailureKind: String, Sendable, Equatable {
    case upstream, upstreamAuth = "upstream_auth", rateLimited = "rate_limited", timeout, unavailable
    case invalidRequest = "invalid_request", contextLength = "context_length", sessionNotFound = "session_not_found"
}

/// A failed answer. `message` reaches the client: it never holds tokens or more than a short,
/// cleaned excerpt of what the site sent.
public struct SiteFailure: Sendable, Equatable, Error, CustomStringConvertible {
    public var kind: SiteFailureKind
    public var message: String
    /// The site's HTTP status when known, else 0.
    public var upstreamStatus: Int
    /// How long the site asked us to wait, 0 when it did not say.
    public var retryAfterMs: Int

    public init(kind: SiteFailureKind, message: String, upstreamStatus: Int = 0, retryAfterMs: Int = 0) {
        self.kind = kind
        self.message = message
        self.upstreamStatus = upstreamStatus
        self.retryAfterMs = retryAfterMs
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}
