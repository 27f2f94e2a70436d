/// One event of an answer, as every encoder consumes it (the Swift twin of `m2a_event`).
public enum DriverEvent: Sendable, Equatable {
    case text(String)
    case reasoning(String)
    case toolCallStart(index: Int, id: String, name: String)
    case toolCallArguments(index: Int, fragment: String)
    case toolCallEnd(index: Int)
    case usage(prompt: Int, completion: Int)
    case session(id: String, exchange: String)
    case upstreamStatus(Int)
    case finish(FinishReason)
    case error(DriverFailure)

    public var isTerminal: Bool {
        switch self {
        case .finish, .error: true
        default: false
        }
    }
}

public enum FinishReason: String, Sendable {
    case stop, length, toolCalls = "tool_calls", contentFilter = "content_filter", cancelled
}

/// A failed answer, with what decides its HTTP status and end_reason.
public struct DriverFailure: Error, Sendable, Equatable {
    public enum Kind: String, Sendable {
        case upstream, upstreamAuth, rateLimited, timeout, unavailable, invalidRequest, contextLength, driver
    }

    public var kind: Kind
    public var message: String
    public var upstreamStatus: Int = 0
    public var retryAfterMilliseconds: Int = 0

    public init(_ kind: Kind, _ message: String, upstreamStatus: Int = 0, retryAfterMilliseconds: Int = 0) {
        self.kind = kind
        self.message = message
        self.upstreamStatus = upstreamStatus
        self.retryAfterMilliseconds = retryAfterMilliseconds
    }
}
