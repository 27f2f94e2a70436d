import PluginABI

/// What the mock answers, chosen by the request's `model` after stripping any `provider/`
/// prefix (`mix/mock-long` → `mock-long`). Unknown names answer like `mock-short`.
///
/// | model                | answer |
/// |----------------------|--------|
/// | `mock-short`, `mock` | "Hello from the mock upstream." in 5 text deltas, FINISH stop. Nothing else: no status, session or usage (the host estimates). |
/// | `mock-usage`         | like short, then USAGE (prompt = bytes of all message contents / 4, at least 1; completion = 5) before FINISH stop |
/// | `mock-long`          | `long_deltas` deltas "word1 ", "word2 "…, FINISH stop |
/// | `mock-chars`         | "Grüße, 世界! 🚀 ok", one Character per delta, FINISH stop |
/// | `mock-reasoning`     | 4 REASONING_DELTAs, then 2 text deltas, FINISH stop |
/// | `mock-length`        | 3 text deltas, FINISH length |
/// | `mock-tool`          | a sentence and a `<tool_calls>` block (parameter form) calling the chosen tool; after a `tool` message, "The tool returned: <content>". FINISH stop |
/// | `mock-tool-json`     | like mock-tool, the invoke holds one JSON object |
/// | `mock-tool-parallel` | like mock-tool with two invokes (first two tools, or one tool twice with different arguments) |
/// | `mock-tool-flaky`    | first calls a tool that does not exist; once the host's correction ("The previous answer was not usable") is the last user message, answers like mock-tool |
/// | `mock-tool-chain`    | a task needing every listed tool in order: one call per answer (the tool after those whose results it has seen), then a final answer quoting all results |
/// | `mock-error-early`   | ERROR upstream (status 502) "mock upstream failed before answering", no delta |
/// | `mock-error-mid`     | `error_after_deltas` text deltas, then ERROR upstream "mock upstream failed mid-stream" |
/// | `mock-rate-limited`  | ERROR rate_limited, status 429, retry after 2000 ms |
/// | `mock-auth-error`    | ERROR upstream_auth, status 401 |
/// | `mock-driver-error`  | ERROR driver "mock driver failed on its own", nothing else (the host's `driver_error`) |
/// | `mock-stall`         | 2 deltas, `stall_ms` of silence, 2 deltas, FINISH stop |
/// | `mock-slow-first`    | `slow_first_ms` of silence before the first delta, then the short answer |
/// | `mock-hang`          | nothing at all until cancelled |
/// | `mock-echo`          | one text delta: a JSON digest of the request (see `Echo`), FINISH stop. Nothing else. |
/// | `mock-write-task`    | a Write call for "create the file /path containing "text"" in the last user message; after its result, a final answer (see `WriteTaskScript`) |
/// | `mock-paced`         | the benchmark's timed, stamped chunks (see `PacedScript`), FINISH stop |
///
/// Every scenario but `mock-short`, `mock-echo` and `mock-hang` starts with SESSION
/// ("mock-session-" + 8 hex of sha256(session.scope or "none"), exchange = request_id), preceded
/// by UPSTREAM_STATUS 200 when the upstream "answered" (all but the three early errors).
/// A cancel ends any of them with FINISH cancelled. Same request, same events.
enum Scenario: String, CaseIterable {
    case short = "mock-short"
    case usage = "mock-usage"
    case long = "mock-long"
    case chars = "mock-chars"
    case reasoning = "mock-reasoning"
    case length = "mock-length"
    case tool = "mock-tool"
    case toolJSON = "mock-tool-json"
    case toolParallel = "mock-tool-parallel"
    case toolChain = "mock-tool-chain"
    case toolFlaky = "mock-tool-flaky"
    case errorEarly = "mock-error-early"
    case errorMid = "mock-error-mid"
    case rateLimited = "mock-rate-limited"
    case authError = "mock-auth-error"
    case driverError = "mock-driver-error"
    case stall = "mock-stall"
    case slowFirst = "mock-slow-first"
    case hang = "mock-hang"
    case echo = "mock-echo"
    case writeTask = "mock-write-task"
    case paced = "mock-paced"

    static func select(model: Substring) -> Scenario {
        model == "mock" ? .short : Scenario(rawValue: String(model)) ?? .short
    }

    static let greeting: [MockEvent] = ["Hello", " from", " the", " mock", " upstream."].map { .text($0) }

    func script(for request: MockRequest, config: MockConfig) -> Script {
        let answered: [MockEvent] = [.upstreamStatus(200), .session(id: request.sessionID, exchange: request.requestID)]
        let refused: [MockEvent] = [.session(id: request.sessionID, exchange: request.requestID)]
        let stop = MockEvent.finish(M2A_FINISH_STOP)

        switch self {
        case .short:
            return Script(Self.greeting + [stop])
        case .usage:
            let bytes = request.messages.reduce(0) { $0 + $1.content.utf8.count }
            let usage = MockEvent.usage(prompt: Int64(max(1, bytes / 4)), completion: Int64(Self.greeting.count))
            return Script(answered + Self.greeting + [usage, stop])
        case .long:
            return Script([.events(answered), .generated(count: config.longDeltas) { .text("word\($0 + 1) ") }, .events([stop])])
        case .chars:
            return Script(answered + "Grüße, 世界! 🚀 ok".map { .text(String($0)) } + [stop])
        case .reasoning:
            let thoughts: [MockEvent] = ["The user", " wants", " a short", " answer."].map { .reasoning($0) }
            return Script(answered + thoughts + [.text("Here is"), .text(" the answer."), stop])
        case .length:
            return Script(answered + [.text("This answer"), .text(" was cut"), .text(" off at"), .finish(M2A_FINISH_LENGTH)])
        case .tool:
            return Script(answered + ToolCallScript.events(for: request, form: .parameters, parallel: false) + [stop])
        case .toolJSON:
            return Script(answered + ToolCallScript.events(for: request, form: .json, parallel: false) + [stop])
        case .toolParallel:
            return Script(answered + ToolCallScript.events(for: request, form: .parameters, parallel: true) + [stop])
        case .toolFlaky:
            let corrected = request.lastUserContent?.contains("The previous answer was not usable") == true
            let text = corrected
                ? ToolCallScript.answer(for: request, form: .parameters, parallel: false)
                : "Calling it.\n<tool_calls>\n<invoke name=\"NoSuchTool\">\n<parameter name=\"x\">1</parameter>\n</invoke>\n</tool_calls>"
            return Script(answered + MockEvent.textDeltas(text) + [stop])
        case .toolChain:
            return Script(answered + MockEvent.textDeltas(ToolCallScript.chainAnswer(for: request)) + [stop])
        case .errorEarly:
            return Script(refused + [.fail(M2A_ERROR_UPSTREAM, "mock upstream failed before answering", upstreamStatus: 502)])
        case .errorMid:
            return Script([
                .events(answered),
                .generated(count: config.errorAfterDeltas) { .text("part\($0 + 1) ") },
                .events([.fail(M2A_ERROR_UPSTREAM, "mock upstream failed mid-stream")]),
            ])
        case .rateLimited:
            return Script(refused + [.fail(M2A_ERROR_RATE_LIMITED, "mock upstream rate limit reached", upstreamStatus: 429, retryAfterMs: 2000)])
        case .authError:
            return Script(refused + [.fail(M2A_ERROR_UPSTREAM_AUTH, "mock upstream rejected the credentials", upstreamStatus: 401)])
        case .driverError:
            return Script([.fail(M2A_ERROR_DRIVER, "mock driver failed on its own")])
        case .stall:
            return Script(answered + [
                .text("Before"), .text(" the stall,"), .pause(milliseconds: config.stallMs), .text(" and after"), .text(" it."), stop,
            ])
        case .slowFirst:
            return Script(answered + [.pause(milliseconds: config.slowFirstMs)] + Self.greeting + [stop])
        case .hang:
            return Script([.hang])
        case .echo:
            return Script([.text(Echo.digest(of: request)), stop])
        case .writeTask:
            return Script(answered + MockEvent.textDeltas(WriteTaskScript.answer(for: request)) + [stop])
        case .paced:
            return PacedScript.script(for: request, answered: answered)
        }
    }
}
