import BenchStamp

/// Misbehaviours a test asks for through the user's own message: `[[fault:<mode>]]` or
/// `[[fault:<mode>:<number>]]` anywhere in `request.query`. Several markers combine (e.g. `crlf`
/// with `comments`); the number's meaning depends on the mode (see `defaultNumber`).
enum FaultMode: String, CaseIterable, Sendable {
    // Stream shape: the body breaks off or ends wrongly.
    case disconnect, errorChunk = "error-chunk", noFinish = "no-finish"
    // Whole-response HTTP failures.
    case http401 = "http-401", http403 = "http-403", http429 = "http-429", http500 = "http-500"
    case http502HTML = "http-502-html", nonSSE200 = "non-sse-200", unknownSession = "unknown-session"
    // Timing.
    case slowFirst = "slow-first", stall
    // Framing a tolerant reader must survive.
    case garbage, crlf, comments
    // Protocol variants the site is known (or suspected) to produce.
    case reasoning, toolInput = "tool-input", sseForNonstream = "sse-for-nonstream", noUsage = "no-usage"
    case noFinishReason = "no-finish-reason", sessionIDsSnake = "session-ids-snake", messageIDOnly = "messageid-only"

    /// The number used when the marker has none: deltas before the break, ms, or Retry-After seconds.
    var defaultNumber: Int {
        switch self {
        case .disconnect, .errorChunk: 3
        case .http429: 2
        case .slowFirst, .stall: 2000
        default: 0
        }
    }
}

/// The faults one request asked for.
struct Faults: Sendable {
    private var numbers: [FaultMode: Int] = [:]

    func has(_ mode: FaultMode) -> Bool { numbers[mode] != nil }
    func number(_ mode: FaultMode) -> Int { numbers[mode] ?? mode.defaultNumber }

    struct UnknownMode: Error { let name: String }

    /// Every marker in `query`. An unknown mode is an error, not ignored: a typo in a test
    /// should fail loudly instead of silently testing the happy path.
    static func parse(_ query: String) throws(UnknownMode) -> Faults {
        var faults = Faults()
        var rest = Substring(query)
        while let open = MarkerSearch.firstRange(of: "[[fault:", in: rest) {
            rest = rest[open.upperBound...]
            guard let close = MarkerSearch.firstRange(of: "]]", in: rest) else { break }
            let body = rest[..<close.lowerBound]
            rest = rest[close.upperBound...]
            let pieces = body.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let mode = FaultMode(rawValue: String(pieces[0])) else { throw UnknownMode(name: String(body)) }
            let number = pieces.count > 1 ? Int(pieces[1]) : nil
            faults.numbers[mode] = number ?? mode.defaultNumber
        }
        return faults
    }
}
