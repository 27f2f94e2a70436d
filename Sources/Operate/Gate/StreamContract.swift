import Foundation
import JSONCore

/// The OpenAI byte contract of client-contracts.md, checked on what came over the wire: the Swift
/// twin of Tests/e2e/contract.py (same rules, same wording), so the release gate judges a
/// deployment the way the test suite judges a build. Each check throws `Violation`, naming the
/// rule, on the first thing a client would choke on, and otherwise returns what the answer said.
public enum StreamContract {
    public struct Violation: Error, CustomStringConvertible, Equatable {
        public let rule: String
        public let detail: String
        public var description: String { detail.isEmpty ? rule : "\(rule): \(detail)" }
    }

    public struct ToolCall: Sendable, Equatable {
        public var index: Int
        public var id: String
        public var name: String
        public var arguments = ""
    }

    public struct StreamResult: Sendable {
        public var requestID = ""
        public var chunks = 0
        public var comments = 0
        public var content = ""
        public var contentDeltas = 0
        public var reasoning = ""
        public var toolCalls: [ToolCall] = []
        public var finishReason: String?
        public var usage: (prompt: Int, completion: Int)?
        public var error: (message: String, type: String, code: String)?
    }

    public struct CompletionResult: Sendable {
        public var requestID: String
        public var content: String?
        public var toolCalls: [ToolCall]
        public var finishReason: String
    }

    public struct ErrorResult: Sendable {
        public var requestID: String
        public var status: Int
        public var message: String
        public var type: String
        public var code: String
    }

    public static let finishReasons: Set<String> = ["stop", "length", "tool_calls", "content_filter"]
    public static let errorStatuses: Set<Int> = [400, 401, 404, 413, 429, 500, 502, 503]
    public static let neverStatuses: Set<Int> = [504, 524]

    static func fail(_ rule: String, _ detail: String = "") -> Violation { Violation(rule: rule, detail: detail) }

    static func require(_ cond: Bool, _ rule: String, _ detail: @autoclosure () -> String = "") throws(Violation) {
        if !cond { throw fail(rule, detail()) }
    }

    // MARK: headers

    /// Response headers, names lower-cased.
    public typealias Headers = [(name: String, value: String)]

    static func values(_ headers: Headers, _ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name }.map(\.value)
    }

    /// X-Request-Id and X-Oneapi-Request-Id, each exactly once, equal and non-empty. Through
    /// new-api (`viaGateway`), whose own id replaces mix2api's, one of them present is enough.
    public static func checkRequestIDHeaders(_ headers: Headers, viaGateway: Bool = false) throws(Violation) -> String {
        let rid = values(headers, "x-request-id")
        let oneapi = values(headers, "x-oneapi-request-id")
        if viaGateway {
            guard let id = (rid + oneapi).first(where: { !$0.isEmpty }) else { throw fail("a request id header (X-Request-Id or X-Oneapi-Request-Id) must be sent") }
            return id
        }
        try require(rid.count == 1, "X-Request-Id must be sent exactly once", "got \(rid)")
        try require(oneapi.count == 1, "X-Oneapi-Request-Id must be sent exactly once", "got \(oneapi)")
        try require(!rid[0].isEmpty, "X-Request-Id must not be empty")
        try require(rid[0] == oneapi[0], "X-Request-Id and X-Oneapi-Request-Id must be equal", "\(rid[0]) != \(oneapi[0])")
        return rid[0]
    }

    static func mediaType(_ headers: Headers) -> String {
        (values(headers, "content-type").first ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }

    // MARK: JSON helpers

    static func isInt(_ v: JSONValue?) -> Bool {
        guard case .number(let n)? = v else { return false }
        return Int(n) != nil
    }

    static func int(_ v: JSONValue?) -> Int? {
        guard case .number(let n)? = v else { return nil }
        return Int(n)
    }

    static func short(_ text: some StringProtocol, _ n: Int = 200) -> String { String(text.prefix(n)) }

    static func serialized(_ v: JSONValue) -> String { short(v.serialized) }

    static func checkUsage(_ usage: JSONValue?, _ where_: String) throws(Violation) -> (Int, Int) {
        guard case .object(let u)? = usage else { throw fail("\(where_): usage must be an object", usage.map(serialized) ?? "null") }
        let p = int(u["prompt_tokens"]), c = int(u["completion_tokens"]), t = int(u["total_tokens"])
        try require((p ?? 0) > 0, "\(where_): usage.prompt_tokens must be an integer > 0", u["prompt_tokens"].map(serialized) ?? "absent")
        try require((c ?? 0) > 0, "\(where_): usage.completion_tokens must be an integer > 0", u["completion_tokens"].map(serialized) ?? "absent")
        try require(t != nil && t == p! + c!, "\(where_): usage.total_tokens must be prompt + completion", serialized(.object(u)))
        return (p!, c!)
    }

    static func checkErrorObject(_ err: JSONValue?, _ where_: String, needParam: Bool) throws(Violation) -> (String, String, String) {
        guard case .object(let e)? = err else { throw fail("\(where_): error must be an object", err.map(serialized) ?? "null") }
        guard let message = e["message"]?.stringValue, !message.isEmpty else { throw fail("\(where_): error.message must be a non-empty string", serialized(.object(e))) }
        guard let type = e["type"]?.stringValue, !type.isEmpty else { throw fail("\(where_): error.type must be a non-empty string", serialized(.object(e))) }
        guard let code = e["code"], code != .null else { throw fail("\(where_): error.code must be present", serialized(.object(e))) }
        if needParam {
            guard let param = e["param"] else { throw fail("\(where_): error.param must be present (null allowed)", serialized(.object(e))) }
            try require(param == .null || param.stringValue != nil, "\(where_): error.param must be a string or null", serialized(.object(e)))
        }
        return (message, type, code.stringValue ?? code.serialized)
    }

    // MARK: streams

    /// Splits an SSE body into its one-line events, enforcing the framing rules.
    public static func splitEvents(_ body: [UInt8]) throws(Violation) -> [String] {
        guard let text = String(validating: body, as: UTF8.self) else { throw fail("the SSE body must be UTF-8") }
        try require(!text.contains("\r"), "SSE lines must end with \\n only (no \\r)")
        try require(!text.isEmpty, "the SSE body is empty")
        try require(text.hasSuffix("\n\n"), "the SSE body must end with a blank line after the last event", short(text.suffix(80)))
        let pieces = text.dropLast(2).components(separatedBy: "\n\n")
        for (i, piece) in pieces.enumerated() {
            try require(!piece.isEmpty, "an SSE event must not be empty (stray blank line)", "event #\(i)")
            let lines = piece.split(separator: "\n", omittingEmptySubsequences: false)
            if lines.allSatisfy({ $0.hasPrefix(":") }) { continue }
            try require(lines.count == 1, "each event must be exactly one `data: ` line then a blank line", short(piece))
            try require(piece.hasPrefix("data: "), "each event line must start with `data: ` (or `:` for a comment)", short(piece))
        }
        return pieces
    }

    /// A complete `stream: true` answer. With `expectError`, it must end with an error chunk and
    /// `[DONE]` (a mid-stream failure); otherwise with finish, usage and `[DONE]`.
    public static func checkStream(status: Int, headers: Headers, body: [UInt8], expectError: Bool = false, viaGateway: Bool = false) throws(Violation) -> StreamResult {
        var result = StreamResult()
        result.requestID = try checkRequestIDHeaders(headers, viaGateway: viaGateway)
        try require(status == 200, "a stream that started must have status 200", "got \(status)")
        try require(mediaType(headers) == "text/event-stream", "Content-Type must be text/event-stream", values(headers, "content-type").first ?? "")
        let events = try splitEvents(body)
        enum Stage: String { case start, deltas, finished, usage, done, error }
        var stage = Stage.start
        var firstChunk = true
        var head: (id: JSONValue, created: JSONValue, model: JSONValue)?
        var argsParsable: [Int: Bool] = [:]
        var dataEvents = 0

        for (n, ev) in events.enumerated() {
            let where_ = "event #\(n)"
            if ev.hasPrefix(":") {
                try require(stage != .done, "nothing may follow `data: [DONE]` (the body must close)", ev)
                result.comments += 1
                continue
            }
            let payload = ev.dropFirst("data: ".count)
            if payload == "[DONE]" {
                try require(stage != .done, "`data: [DONE]` sent twice")
                if expectError {
                    try require(stage == .error, "a failed stream must send the error chunk before `[DONE]`", "stage \(stage.rawValue)")
                } else {
                    try require(stage != .error, "unexpected mid-stream error chunk", result.error.map { "\($0.code): \($0.message)" } ?? "")
                    try require(stage == .finished || stage == .usage, "`[DONE]` before the finish chunk (the stream ended silently)", "stage \(stage.rawValue)")
                    try require(stage == .usage, "the usage chunk is missing before `[DONE]`")
                }
                stage = .done
                continue
            }
            try require(stage != .done, "nothing may follow `data: [DONE]` (the body must close)", short(ev))
            try require(stage != .error, "after an error chunk only `data: [DONE]` may follow", short(ev))
            let parsed: JSONValue
            do { parsed = try JSONParser.parse(Array(payload.utf8)) } catch {
                throw fail("every data line except [DONE] must be one JSON object", "\(where_): \(error): \(short(payload))")
            }
            guard case .object(let chunk) = parsed else { throw fail("every data line except [DONE] must be a JSON object", "\(where_): \(short(payload))") }
            dataEvents += 1

            if let err = chunk["error"] {
                try require(stage != .finished && stage != .usage, "an error chunk after the finish chunk", where_)
                try require(chunk.keys == ["error"], "an error chunk must be {\"error\":{...}} only", serialized(parsed))
                let (m, t, c) = try checkErrorObject(err, where_, needParam: false)
                result.error = (m, t, c)
                firstChunk = false
                stage = .error
                continue
            }

            result.chunks += 1
            try require(chunk["object"]?.stringValue == "chat.completion.chunk", "object must be chat.completion.chunk", "\(where_): \(chunk["object"].map(serialized) ?? "absent")")
            try require(chunk["id"]?.stringValue?.hasPrefix("chatcmpl-") == true, "id must be a string chatcmpl-…", "\(where_): \(chunk["id"].map(serialized) ?? "absent")")
            try require(isInt(chunk["created"]), "created must be an integer", "\(where_): \(chunk["created"].map(serialized) ?? "absent")")
            try require(!(chunk["model"]?.stringValue ?? "").isEmpty, "model must be a non-empty string", where_)
            if let head {
                try require(chunk["id"]! == head.id, "id must be the same in every chunk", where_)
                try require(chunk["created"]! == head.created, "created must be the same in every chunk", where_)
                try require(chunk["model"]! == head.model, "model must be the same in every chunk", where_)
            } else {
                head = (chunk["id"]!, chunk["created"]!, chunk["model"]!)
            }
            guard case .array(let choices)? = chunk["choices"] else { throw fail("choices must be an array", where_) }

            if choices.isEmpty {
                try require(!firstChunk, "the first chunk must carry delta.role, not usage")
                try require(stage == .finished, "the usage chunk must come right after the finish chunk", "\(where_), stage \(stage.rawValue)")
                result.usage = try checkUsage(chunk["usage"], where_)
                stage = .usage
                continue
            }

            try require(stage == .start || stage == .deltas, "no delta or second finish chunk may follow the finish chunk", "\(where_), stage \(stage.rawValue)")
            try require(choices.count == 1, "exactly one choice per chunk", "\(where_): \(choices.count)")
            guard case .object(let choice) = choices[0], int(choice["index"]) == 0 else { throw fail("choices[0].index must be 0", where_) }
            guard let finishValue = choice["finish_reason"] else { throw fail("choices[0].finish_reason must be present (null while streaming)", where_) }
            guard case .object(let delta)? = choice["delta"] else { throw fail("choices[0].delta must be an object", where_) }
            if let usage = chunk["usage"], usage != .null { throw fail("usage belongs in the final chunk with choices: [] only", where_) }

            if let role = delta["role"] {
                try require(role.stringValue == "assistant", "delta.role must be \"assistant\" (never \"\")", "\(where_): \(serialized(role))")
            }
            if firstChunk {
                try require(delta["role"]?.stringValue == "assistant", "the first chunk must have delta.role == \"assistant\"", "\(where_): \(serialized(.object(delta)))")
                firstChunk = false
            }

            if finishValue != .null {
                try require(delta.isEmpty, "the finish chunk must have an empty delta", "\(where_): \(serialized(.object(delta)))")
                guard let finish = finishValue.stringValue, finishReasons.contains(finish) else {
                    throw fail("finish_reason must be stop, length, tool_calls or content_filter", "\(where_): \(serialized(finishValue))")
                }
                result.finishReason = finish
                stage = .finished
                continue
            }
            stage = .deltas

            let hasContent = delta["content"].map { $0 != .null } ?? false
            let hasTools = delta["tool_calls"].map { $0 != .null } ?? false
            try require(!(hasContent && hasTools), "never put content and tool_calls in the same chunk", "\(where_): \(serialized(.object(delta)))")
            if hasContent {
                guard let text = delta["content"]!.stringValue else { throw fail("\(where_): delta.content must be a string", serialized(delta["content"]!)) }
                if !text.isEmpty {
                    result.content += text
                    result.contentDeltas += 1
                }
            }
            if let r = delta["reasoning_content"], r != .null {
                guard let text = r.stringValue else { throw fail("\(where_): delta.reasoning_content must be a string", serialized(r)) }
                if !text.isEmpty {
                    try require(result.content.isEmpty, "reasoning_content must come before content", where_)
                    try require(result.toolCalls.isEmpty, "reasoning_content must come before tool calls", where_)
                    result.reasoning += text
                }
            }
            if hasTools { try checkToolCallDeltas(delta["tool_calls"]!, &result, &argsParsable, where_) }
        }

        try require(stage == .done, "the stream must end with `data: [DONE]` and then close", "ended at stage \(stage.rawValue)")
        try require(events.last == "data: [DONE]", "`data: [DONE]` must be the last event before EOF")
        if expectError {
            guard let error = result.error else { throw fail("expected a mid-stream error chunk") }
            try require(!result.content.contains(error.message), "the error must not be put into assistant text", error.message)
        } else {
            try require(dataEvents >= 2, "a stream needs at least two data chunks", String(dataEvents))
            try require((result.finishReason == "tool_calls") == !result.toolCalls.isEmpty,
                "finish_reason must be tool_calls exactly when tool calls were sent",
                "finish \(result.finishReason ?? "none"), \(result.toolCalls.count) tool call(s)")
        }
        try require(!result.content.contains("{\"error\""), "an error must never be put into assistant text", short(result.content))
        for call in result.toolCalls {
            do { _ = try JSONParser.parse(call.arguments) } catch {
                throw fail("accumulated tool-call arguments must parse as JSON", "index \(call.index): \(error): \(short(call.arguments))")
            }
        }
        return result
    }

    static func isToolCallID(_ id: String) -> Bool {
        id.hasPrefix("call_") && id.utf8.count == 29 && id.utf8.dropFirst(5).allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }
    }

    static func checkToolCallDeltas(_ items: JSONValue, _ result: inout StreamResult, _ argsParsable: inout [Int: Bool], _ where_: String) throws(Violation) {
        guard case .array(let list) = items, !list.isEmpty else { throw fail("delta.tool_calls must be a non-empty array", where_) }
        for itemValue in list {
            guard case .object(let item) = itemValue else { throw fail("a tool-call delta must be an object", where_) }
            guard let idx = int(item["index"]) else { throw fail("a tool-call delta needs an integer index", "\(where_): \(serialized(itemValue))") }
            guard case .object(let fn)? = item["function"] else { throw fail("every tool-call delta must have a function object", "\(where_): \(serialized(itemValue))") }
            guard let known = result.toolCalls.firstIndex(where: { $0.index == idx }) else {
                try require(idx == result.toolCalls.count, "tool-call index must start at 0 and have no gaps", "\(where_): got \(idx), expected \(result.toolCalls.count)")
                guard let id = item["id"]?.stringValue, isToolCallID(id) else {
                    throw fail("the first delta of a tool call needs id call_<24 alnum>", "\(where_): \(item["id"].map(serialized) ?? "absent")")
                }
                try require(item["type"]?.stringValue == "function", "the first delta of a tool call needs type function", "\(where_): \(serialized(itemValue))")
                guard let name = fn["name"]?.stringValue, !name.isEmpty else {
                    throw fail("the first delta of a tool call needs a non-empty function.name", "\(where_): \(serialized(itemValue))")
                }
                try require(fn["arguments"]?.stringValue == "", "the first delta of a tool call must have function.arguments == \"\"", "\(where_): \(fn["arguments"].map(serialized) ?? "absent")")
                try require(!result.toolCalls.contains { $0.id == id }, "tool-call ids must be unique", id)
                result.toolCalls.append(ToolCall(index: idx, id: id, name: name))
                argsParsable[idx] = false
                continue
            }
            try require((item["id"]?.stringValue ?? "").isEmpty, "a later delta of a tool call must not repeat its id", "\(where_): \(serialized(itemValue))")
            try require((fn["name"]?.stringValue ?? "").isEmpty, "a later delta of a tool call must not repeat its name", "\(where_): \(serialized(itemValue))")
            let fragmentValue = fn["arguments"] ?? .string("")
            guard let fragment = fragmentValue.stringValue else { throw fail("function.arguments deltas must be strings", "\(where_): \(serialized(fragmentValue))") }
            if !fragment.isEmpty {
                try require(argsParsable[idx] != true, "no arguments may follow once they parse as JSON (AI SDK stops there: no placeholder)",
                    "\(where_): index \(idx) already had \(short(result.toolCalls[known].arguments))")
                result.toolCalls[known].arguments += fragment
                if (try? JSONParser.parse(result.toolCalls[known].arguments)) != nil { argsParsable[idx] = true }
            }
        }
    }

    // MARK: non-stream answers and errors

    public static func checkCompletion(status: Int, headers: Headers, body: [UInt8], viaGateway: Bool = false) throws(Violation) -> CompletionResult {
        let rid = try checkRequestIDHeaders(headers, viaGateway: viaGateway)
        try require(status == 200, "a completed answer must have status 200", "got \(status): \(short(String(decoding: body, as: UTF8.self), 300))")
        try require(mediaType(headers) == "application/json", "Content-Type must be application/json", values(headers, "content-type").first ?? "")
        let parsed: JSONValue
        do { parsed = try JSONParser.parse(body) } catch { throw fail("the body must be one JSON object", "\(error)") }
        guard case .object(let o) = parsed else { throw fail("the body must be a JSON object") }
        try require(o["error"] == nil, "a 200 answer must not contain a top-level error (new-api fails the channel)", o["error"].map(serialized) ?? "")
        try require(o["object"]?.stringValue == "chat.completion", "object must be chat.completion", o["object"].map(serialized) ?? "absent")
        try require(o["id"]?.stringValue?.hasPrefix("chatcmpl-") == true, "id must be a string chatcmpl-…", o["id"].map(serialized) ?? "absent")
        try require(isInt(o["created"]), "created must be an integer")
        try require(!(o["model"]?.stringValue ?? "").isEmpty, "model must be a non-empty string")
        guard case .array(let choices)? = o["choices"], choices.count == 1 else { throw fail("choices must hold exactly one choice", o["choices"].map(serialized) ?? "absent") }
        guard case .object(let choice) = choices[0], int(choice["index"]) == 0 else { throw fail("choices[0].index must be 0") }
        guard case .object(let msg)? = choice["message"] else { throw fail("choices[0].message must be an object") }
        try require(msg["role"]?.stringValue == "assistant", "message.role must be assistant", msg["role"].map(serialized) ?? "absent")
        guard let contentValue = msg["content"] else { throw fail("message.content must be present (string or null)") }
        var calls: [ToolCall] = []
        if let tc = msg["tool_calls"], tc != .null {
            guard case .array(let list) = tc else { throw fail("message.tool_calls must be an array") }
            for (i, callValue) in list.enumerated() {
                guard case .object(let call) = callValue else { throw fail("tool_calls[\(i)] must be an object") }
                guard let id = call["id"]?.stringValue, isToolCallID(id) else { throw fail("tool_calls[\(i)].id must be call_<24 alnum>", call["id"].map(serialized) ?? "absent") }
                try require(call["type"]?.stringValue == "function", "tool_calls[\(i)].type must be function")
                guard case .object(let fn)? = call["function"], let name = fn["name"]?.stringValue, !name.isEmpty else {
                    throw fail("tool_calls[\(i)].function.name must be a non-empty string")
                }
                guard let args = fn["arguments"]?.stringValue else { throw fail("tool_calls[\(i)].function.arguments must be a JSON string", fn["arguments"].map(serialized) ?? "absent") }
                do { _ = try JSONParser.parse(args) } catch { throw fail("tool_calls[\(i)].function.arguments must hold JSON", "\(error): \(short(args))") }
                calls.append(ToolCall(index: i, id: id, name: name, arguments: args))
            }
        }
        let content: String?
        if contentValue == .null {
            try require(!calls.isEmpty, "message.content may be null only with tool_calls")
            content = nil
        } else {
            guard let text = contentValue.stringValue else { throw fail("message.content must be a string", serialized(contentValue)) }
            content = text
        }
        guard let finish = choice["finish_reason"]?.stringValue, finishReasons.contains(finish) else {
            throw fail("finish_reason must be stop, length, tool_calls or content_filter", choice["finish_reason"].map(serialized) ?? "absent")
        }
        try require((finish == "tool_calls") == !calls.isEmpty, "finish_reason must be tool_calls exactly when tool_calls is present", "finish \(finish), \(calls.count) tool call(s)")
        _ = try checkUsage(o["usage"], "non-stream")
        return CompletionResult(requestID: rid, content: content, toolCalls: calls, finishReason: finish)
    }

    public static func checkError(status: Int, headers: Headers, body: [UInt8], viaGateway: Bool = false) throws(Violation) -> ErrorResult {
        let rid = try checkRequestIDHeaders(headers, viaGateway: viaGateway)
        let text = short(String(decoding: body, as: UTF8.self), 300)
        try require(!neverStatuses.contains(status), "never answer 504 or 524 (new-api will not retry them)", String(status))
        try require(errorStatuses.contains(status), "an error status must be one of \(errorStatuses.sorted())", "got \(status): \(text)")
        try require(mediaType(headers) == "application/json", "an error envelope must be application/json", values(headers, "content-type").first ?? "")
        let parsed: JSONValue
        do { parsed = try JSONParser.parse(body) } catch { throw fail("an error body must be one JSON object", "\(error): \(text)") }
        guard case .object(let o) = parsed, o.keys == ["error"] else { throw fail("an error body must be {\"error\":{...}}", text) }
        let (m, t, c) = try checkErrorObject(o["error"], "envelope", needParam: true)
        if status == 429 {
            let retry = values(headers, "retry-after").first ?? ""
            try require(!retry.isEmpty && retry.trimmingCharacters(in: .whitespaces).allSatisfy(\.isNumber), "a 429 needs Retry-After in whole seconds", retry)
        }
        return ErrorResult(requestID: rid, status: status, message: m, type: t, code: c)
    }
}
