/// Driver events → Anthropic Messages SSE bytes, byte-exact to client-contracts.md. A state
/// machine that never touches the network.
///
/// Order it guarantees: `message_start` (content [], usage); per block `content_block_start` →
/// deltas → `content_block_stop`, indices 0, 1, 2… without gaps and never two blocks open;
/// `message_delta` (stop_reason `tool_use` exactly when tool_use blocks were sent, usage always);
/// `message_stop`. Every event has an `event:` line equal to its data's `type`.
struct AnthropicStreamEncoder: Sendable {
    private enum Block: Equatable { case none, text, thinking }

    private let id: String
    private let model: String
    private let inputTokens: Int
    private var started = false
    private var open: Block = .none
    private var nextIndex = 0
    private(set) var finished = false
    private(set) var chunksSent = 0
    private(set) var toolCallsSent = 0
    private(set) var toolCallIDs: [String] = []
    /// Calls whose input is being collected: each goes out whole, as one input_json_delta.
    private var pendingCalls: [Int: (id: String, name: String, arguments: String)] = [:]
    private var outputTokenEstimate = 0

    /// `inputTokens`: what message_start reports (the upstream's count usually comes at the end;
    /// message_delta then carries the final one).
    init(id: String, model: String, inputTokens: Int) {
        self.id = id
        self.model = model
        self.inputTokens = max(1, inputTokens)
    }

    /// True once a content block went out: until then a corrective retry is invisible.
    var hasStarted: Bool { open != .none || nextIndex > 0 }

    mutating func encode(_ event: DriverEvent, into out: inout [UInt8]) {
        switch event {
        case .text(let s):
            guard !s.isEmpty else { return }
            outputTokenEstimate += TokenEstimator.estimate(s)
            openBlock(.text, into: &out)
            blockDelta(into: &out) { o in
                o += Self.textDeltaKey
                JSONWriter.appendString(s, to: &o)
            }
        case .reasoning(let s):
            guard !s.isEmpty else { return }
            outputTokenEstimate += TokenEstimator.estimate(s)
            openBlock(.thinking, into: &out)
            blockDelta(into: &out) { o in
                o += Self.thinkingDeltaKey
                JSONWriter.appendString(s, to: &o)
            }
        case .toolCallStart(let index, let id, let name):
            pendingCalls[index] = (AnthropicToolInput.toolUseID(id), name, "")
        case .toolCallArguments(let index, let fragment):
            pendingCalls[index]?.arguments += fragment
        case .toolCallEnd(let index):
            if let call = pendingCalls.removeValue(forKey: index) { sendToolUse(call, into: &out) }
        case .usage, .session, .upstreamStatus, .finish, .error:
            return
        }
    }

    /// Closes the open block, then `message_delta` and `message_stop`.
    mutating func finish(_ reason: FinishReason, promptTokens: Int, completionTokens: Int?, into out: inout [UInt8]) {
        guard !finished else { return }
        for index in pendingCalls.keys.sorted() { sendToolUse(pendingCalls[index]!, into: &out) }
        pendingCalls.removeAll()
        startIfNeeded(into: &out)
        closeBlock(into: &out)
        let stopReason: String
        if toolCallsSent > 0 {
            stopReason = "tool_use"
        } else {
            switch reason {
            case .length: stopReason = "max_tokens"
            case .contentFilter: stopReason = "refusal"
            default: stopReason = "end_turn"
            }
        }
        let output = max(1, completionTokens ?? outputTokenEstimate)
        event("message_delta", into: &out) { o in
            o += Array(#"{"type":"message_delta","delta":{"stop_reason":"\#(stopReason)","stop_sequence":null},"usage":{"input_tokens":\#(max(1, promptTokens)),"output_tokens":\#(output)}}"#.utf8)
        }
        event("message_stop", into: &out) { $0 += Array(#"{"type":"message_stop"}"#.utf8) }
        finished = true
    }

    /// A failure after the 200: `event: error` and the end (no message_stop, as Anthropic does),
    /// after message_start if nothing had opened the message yet.
    mutating func fail(_ error: ClientError, into out: inout [UInt8]) {
        guard !finished else { return }
        startIfNeeded(into: &out)
        event("error", into: &out) { $0 += error.anthropicBody }
        finished = true
    }

    /// `event: ping`. The first one also opens the message, as Anthropic's own stream does, so
    /// a client sees a well-formed message from its first bytes.
    mutating func keepAlive(into out: inout [UInt8]) {
        startIfNeeded(into: &out)
        event("ping", counted: false, into: &out) { $0 += Array(#"{"type":"ping"}"#.utf8) }
    }

    // MARK: Pieces

    /// `counted`: false for pings, which (like the OpenAI stream's `: ping`) are not answer chunks.
    private mutating func event(_ name: String, counted: Bool = true, into out: inout [UInt8], _ data: (inout [UInt8]) -> Void) {
        out += Self.eventPrefix
        out += name.utf8
        out += Self.dataPrefix
        data(&out)
        out += Self.eventEnd
        if counted { chunksSent += 1 }
    }

    // Fixed pieces of the per-delta path, built once (README "Performance").
    private static let eventPrefix = Array("event: ".utf8)
    private static let dataPrefix = Array("\ndata: ".utf8)
    private static let eventEnd = Array("\n\n".utf8)
    private static let blockDeltaOpen = Array(#"{"type":"content_block_delta","index":"#.utf8)
    private static let blockDeltaMiddle = Array(#","delta":{"#.utf8)
    private static let blockDeltaClose = Array("}}".utf8)
    private static let textDeltaKey = Array(#""type":"text_delta","text":"#.utf8)
    private static let thinkingDeltaKey = Array(#""type":"thinking_delta","thinking":"#.utf8)

    private mutating func startIfNeeded(into out: inout [UInt8]) {
        guard !started else { return }
        started = true
        let (id, model, input) = (self.id, self.model, inputTokens)
        event("message_start", into: &out) { o in
            o += Array(#"{"type":"message_start","message":{"id":"#.utf8)
            JSONWriter.appendString(id, to: &o)
            o += Array(#","type":"message","role":"assistant","model":"#.utf8)
            JSONWriter.appendString(model, to: &o)
            o += Array(#","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":\#(input),"output_tokens":1}}}"#.utf8)
        }
    }

    private mutating func openBlock(_ kind: Block, into out: inout [UInt8]) {
        startIfNeeded(into: &out)
        if open == kind { return }
        closeBlock(into: &out)
        open = kind
        let start = kind == .text ? #"{"type":"text","text":""}"# : #"{"type":"thinking","thinking":"","signature":""}"#
        let index = nextIndex
        event("content_block_start", into: &out) { $0 += Array(#"{"type":"content_block_start","index":\#(index),"content_block":\#(start)}"#.utf8) }
    }

    private mutating func closeBlock(into out: inout [UInt8]) {
        guard open != .none else { return }
        let index = nextIndex
        event("content_block_stop", into: &out) { $0 += Array(#"{"type":"content_block_stop","index":\#(index)}"#.utf8) }
        open = .none
        nextIndex += 1
    }

    private mutating func blockDelta(into out: inout [UInt8], _ delta: (inout [UInt8]) -> Void) {
        let index = nextIndex
        event("content_block_delta", into: &out) { o in
            o += Self.blockDeltaOpen
            o += String(index).utf8
            o += Self.blockDeltaMiddle
            delta(&o)
            o += Self.blockDeltaClose
        }
    }

    /// One tool_use block: start with `input: {}`, the whole input as one input_json_delta, stop.
    private mutating func sendToolUse(_ call: (id: String, name: String, arguments: String), into out: inout [UInt8]) {
        startIfNeeded(into: &out)
        closeBlock(into: &out)
        let index = nextIndex
        toolCallsSent += 1
        toolCallIDs.append(call.id)
        let input = AnthropicToolInput.json(call.arguments)
        outputTokenEstimate += TokenEstimator.estimate(call.name) + TokenEstimator.estimate(input)
        event("content_block_start", into: &out) { o in
            o += Array(#"{"type":"content_block_start","index":\#(index),"content_block":{"type":"tool_use","id":"#.utf8)
            JSONWriter.appendString(call.id, to: &o)
            o += Array(#","name":"#.utf8)
            JSONWriter.appendString(call.name, to: &o)
            o += Array(#","input":{}}}"#.utf8)
        }
        blockDelta(into: &out) { o in
            o += Array(#""type":"input_json_delta","partial_json":"#.utf8)
            JSONWriter.appendString(input, to: &o)
        }
        event("content_block_stop", into: &out) { $0 += Array(#"{"type":"content_block_stop","index":\#(index)}"#.utf8) }
        nextIndex += 1
    }
}

/// A tool call's arguments as Anthropic's `input`, which must be a JSON object.
enum AnthropicToolInput {
    /// The arguments when they are a JSON object; `{}` for empty or anything else (a native
    /// driver's broken arguments must not break the client's parser).
    static func json(_ arguments: String) -> String {
        guard !arguments.isEmpty, case .object? = try? JSONParser.parse(arguments) else { return "{}" }
        return arguments
    }

    /// Anthropic clients expect `toolu_` ids: a driver's own id keeps its text behind the
    /// prefix (deterministic, so the id the client sends back is the same every time).
    static func toolUseID(_ driverID: String) -> String {
        if driverID.isEmpty { return Identifiers.anthropicToolUseID() }
        return driverID.hasPrefix("toolu_") ? driverID : "toolu_" + driverID
    }

    static func value(_ arguments: String) -> JSONValue {
        guard case .object(let o)? = try? JSONParser.parse(arguments) else { return .object(JSONObject()) }
        return .object(o)
    }
}
