import Foundation
import JSONCore

/// The three packs. Every answer is checked against the byte contract first; the pack's own
/// checks follow. What the server recorded (end_reason, tool ids, streams in flight) is checked
/// when it is visible: from `--access-log` first, else `--metrics-url`, else judged from the bytes.
struct RegressionPacks: Sendable {
    let options: Gate.Options
    let http: GateHTTP

    init(options: Gate.Options) {
        self.options = options
        http = GateHTTP(baseURL: options.baseURL, key: options.key, timeoutSeconds: options.timeoutSeconds)
    }

    static let longPrompt = "Write a long, detailed answer (at least 400 words) about the history of the printing press. Do not use any tools."
    static let tool: JSONValue = [
        "type": "function",
        "function": [
            "name": "lookup_order",
            "description": "Look up an order by its id and return its status.",
            "parameters": ["type": "object", "properties": ["order_id": ["type": "string", "description": "The order id, e.g. A-1234"]], "required": ["order_id"]],
        ],
    ]
    static let toolResult = #"{"order_id":"A-1234","status":"shipped"}"#
    /// A long answer arrives in pieces; fewer means the stream was buffered or cut short.
    static let minimumLongDeltas = 10

    static func requestID(_ pack: String) -> String { "gate-\(pack)-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16) }

    // MARK: A

    func longStream() async -> GateReport.Pack {
        var pack = GateReport.Pack(id: "A", title: "long streamed answer, no tools")
        let before = await metrics()
        let rid = Self.requestID("a")
        let body: JSONValue = [
            "model": .string(options.longModel), "stream": true, "stream_options": ["include_usage": true],
            "messages": [["role": "user", "content": .string(Self.longPrompt)]],
        ]
        guard let (reply, stream) = await streamed(body, rid, into: &pack) else { return pack }
        pack.check("a finish signal, usage and [DONE]", stream.finishReason == "stop" || stream.finishReason == "length",
            "finish_reason \(stream.finishReason ?? "none"), \(stream.chunks) chunks")
        pack.check("no cut: a long answer streamed in pieces", stream.contentDeltas >= Self.minimumLongDeltas && !stream.content.isEmpty,
            "\(stream.contentDeltas) content deltas, \(stream.content.count) characters (at least \(Self.minimumLongDeltas) deltas expected)")
        await serverSide(into: &pack, ids: [reply.requestID, rid], before: before, expect: "ok", stream: true, tools: false)
        return pack
    }

    // MARK: B

    func toolRoundTrip() async -> GateReport.Pack {
        var pack = GateReport.Pack(id: "B", title: "streamed answer with one tool: call, result, final answer")
        let before = await metrics()
        var messages: [JSONValue] = [["role": "user", "content": "Look up order A-1234 with the lookup_order tool, then tell me its status."]]
        let rid1 = Self.requestID("b1")
        let first: JSONValue = [
            "model": .string(options.toolModel), "stream": true, "stream_options": ["include_usage": true],
            "messages": .array(messages), "tools": [Self.tool], "tool_choice": "required",
        ]
        guard let (reply1, call) = await streamed(first, rid1, into: &pack) else { return pack }
        let calls = call.toolCalls
        let emitted = pack.check("tool call emitted", calls.count >= 1 && call.finishReason == "tool_calls",
            calls.isEmpty ? "no tool call; finish_reason \(call.finishReason ?? "none"); text: \(String(call.content.prefix(120)))" : "\(calls.count) call(s), finish_reason \(call.finishReason ?? "none")")
        guard emitted, let c = calls.first else { return pack }
        let argsObject: Bool = { if case .object? = try? JSONParser.parse(c.arguments) { true } else { false } }()
        guard pack.check("the call names the declared tool with a JSON object of arguments", c.name == "lookup_order" && argsObject, "\(c.name)(\(c.arguments))") else { return pack }

        var assistant = JSONObject([("role", "assistant")])
        assistant["content"] = call.content.isEmpty ? .null : .string(call.content)
        assistant["tool_calls"] = .array(calls.map { ["id": .string($0.id), "type": "function", "function": ["name": .string($0.name), "arguments": .string($0.arguments)]] })
        messages.append(.object(assistant))
        for other in calls { messages.append(["role": "tool", "tool_call_id": .string(other.id), "content": .string(Self.toolResult)]) }
        let rid2 = Self.requestID("b2")
        let second: JSONValue = [
            "model": .string(options.toolModel), "stream": true, "stream_options": ["include_usage": true],
            "messages": .array(messages), "tools": [Self.tool],
        ]
        guard let (reply2, final) = await streamed(second, rid2, into: &pack, step: "the answer to the tool result") else { return pack }
        pack.check("tool result sent back: final answer", final.toolCalls.isEmpty && !final.content.isEmpty && (final.finishReason == "stop" || final.finishReason == "length"),
            "finish_reason \(final.finishReason ?? "none"), \(final.toolCalls.count) new call(s), text: \(String(final.content.prefix(120)))")

        // Ids aligned: the server recorded the call it emitted and the result it received under the same id.
        let ids = calls.map(\.id)
        if let log = options.accessLogPath.map(AccessLogLookup.init) {
            let l1 = await log.line(for: [reply1.requestID, rid1].compactMap { $0 })
            let l2 = await log.line(for: [reply2.requestID, rid2].compactMap { $0 })
            let emittedIDs = l1?["tool_call_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let resultIDs = l2?["tool_result_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
            pack.check("ids aligned (access log)", l1 != nil && l2 != nil && emittedIDs == ids && resultIDs == ids,
                l1 == nil || l2 == nil ? "access lines not found in \(log.path)" : "emitted \(emittedIDs), results \(resultIDs), client saw \(ids)")
            pack.check("end_reason ok for both requests (access log)", l1?["end_reason"]?.stringValue == "ok" && l2?["end_reason"]?.stringValue == "ok",
                "\(l1?["end_reason"]?.stringValue ?? "?"), \(l2?["end_reason"]?.stringValue ?? "?")")
        } else if let before, let after = await metrics() {
            let emittedDelta = after.sum("mix2api_tool_calls_emitted_total") - before.sum("mix2api_tool_calls_emitted_total")
            let resultDelta = after.sum("mix2api_tool_results_received_total") - before.sum("mix2api_tool_results_received_total")
            pack.check("ids aligned (metrics: calls emitted and results received both counted)", emittedDelta >= Double(ids.count) && resultDelta >= Double(ids.count),
                "tool_calls_emitted +\(Int(emittedDelta)), tool_results_received +\(Int(resultDelta)) for \(ids.count) call(s)")
        } else {
            pack.check("ids aligned", ids.allSatisfy { StreamContract.isToolCallID($0) } && Set(ids).count == ids.count,
                "judged from the bytes: unique call_ ids \(ids), and the server accepted their results")
            pack.skip("end_reason", "not visible: pass --access-log or --metrics-url")
        }
        return pack
    }

    // MARK: C

    func abortAndTimeout() async -> GateReport.Pack {
        var pack = GateReport.Pack(id: "C", title: "client abort and client timeout")
        let before = await metrics()
        let body: JSONValue = [
            "model": .string(options.abortModel), "stream": true, "stream_options": ["include_usage": true],
            "messages": [["role": "user", "content": .string(Self.longPrompt)]],
        ]
        // C1: the client leaves once the answer has begun.
        let rid1 = Self.requestID("c1")
        pack.requestIDs.append(rid1)
        var abortedIDs: [[String]] = []
        do {
            let reply = try await http.chat(body, requestID: rid1) { bytes in Self.hasContent(bytes) }
            if let id = reply.requestID, id != rid1 { pack.requestIDs.append(id) }
            let started = reply.status == 200 && Self.hasContent(reply.body)
            pack.check("abort after the first content delta", started && reply.stoppedEarly,
                reply.status != 200 ? "HTTP \(reply.status): \(reply.text.prefix(200))" : (reply.stoppedEarly ? "left after \(reply.body.count) bytes" : "the answer ended before the client could leave"))
            abortedIDs.append([reply.requestID, rid1].compactMap { $0 })
        } catch {
            pack.check("abort after the first content delta", false, error.description)
        }
        // C2: the client gives up waiting (its own timeout) while the answer runs.
        let rid2 = Self.requestID("c2")
        pack.requestIDs.append(rid2)
        do {
            let reply = try await http.chat(body, requestID: rid2, giveUpAfter: .milliseconds(options.clientTimeoutMs))
            if reply.timedOut {
                pack.check("client timeout after \(options.clientTimeoutMs) ms", true, "gave up after \(reply.body.count) bytes")
                abortedIDs.append([reply.requestID, rid2].compactMap { $0 })
            } else {
                pack.skip("client timeout after \(options.clientTimeoutMs) ms", "the answer completed first (HTTP \(reply.status)); use a slower model or a shorter --client-timeout-ms")
            }
        } catch {
            pack.check("client timeout after \(options.clientTimeoutMs) ms", false, error.description)
        }

        // Not counted as failures.
        if let log = options.accessLogPath.map(AccessLogLookup.init) {
            var reasons: [String] = []
            for ids in abortedIDs {
                let line = await log.line(for: ids)
                reasons.append(line.map { "\($0["end_reason"]?.stringValue ?? "?")\($0["cut"]?.boolValue == true ? " (cut)" : "")" } ?? "no access line")
            }
            pack.check("aborts recorded as client_abort, not as failures (access log)", !reasons.isEmpty && reasons.allSatisfy { $0 == "client_abort" }, reasons.joined(separator: ", "))
        } else if let before {
            let after = await waitForMetrics { after in
                after.sum("mix2api_requests_total", ["end_reason": "client_abort"]) - before.sum("mix2api_requests_total", ["end_reason": "client_abort"]) >= Double(abortedIDs.count)
            }
            let aborts = (after?.sum("mix2api_requests_total", ["end_reason": "client_abort"]) ?? 0) - before.sum("mix2api_requests_total", ["end_reason": "client_abort"])
            let cuts = (after?.sum("mix2api_stream_cuts_total") ?? 0) - before.sum("mix2api_stream_cuts_total")
            pack.check("aborts recorded as client_abort, not as failures (metrics)", aborts >= Double(abortedIDs.count) && cuts == 0,
                "client_abort +\(Int(aborts)) for \(abortedIDs.count) abort(s), stream cuts +\(Int(cuts))")
        } else {
            pack.skip("aborts recorded as client_abort", "not visible: pass --access-log or --metrics-url")
        }

        // Resources released.
        if let before {
            let baseline = before.sum("mix2api_streams_in_flight")
            let after = await waitForMetrics { $0.sum("mix2api_streams_in_flight") <= baseline }
            let now = after?.sum("mix2api_streams_in_flight")
            pack.check("streams in flight back to the baseline", now.map { $0 <= baseline } ?? false,
                "baseline \(Int(baseline)), now \(now.map { String(Int($0)) } ?? "unreadable")")
        } else {
            pack.skip("streams in flight back to the baseline", "not visible: pass --metrics-url")
        }

        // The server keeps answering.
        let rid3 = Self.requestID("c3")
        pack.requestIDs.append(rid3)
        let ping: JSONValue = ["model": .string(options.longModel), "stream": false, "max_tokens": 16, "messages": [["role": "user", "content": "hi"]]]
        do {
            let reply = try await http.chat(ping, requestID: rid3)
            if reply.timedOut {
                pack.check("the server keeps answering", false, "no answer within \(options.timeoutSeconds) s")
                return pack
            }
            do {
                let answer = try StreamContract.checkCompletion(status: reply.status, headers: reply.headers, body: reply.body, viaGateway: options.viaGateway)
                pack.check("the server keeps answering", true, "a new request answered (finish_reason \(answer.finishReason))")
            } catch {
                pack.check("the server keeps answering", false, Self.describe(reply, error))
            }
        } catch {
            pack.check("the server keeps answering", false, error.description)
        }
        return pack
    }

    // MARK: helpers

    /// Sends a streamed request and checks the answer against the byte contract. nil (with the
    /// failure recorded) when there is no contract-valid stream to look at.
    private func streamed(_ body: JSONValue, _ rid: String, into pack: inout GateReport.Pack, step: String = "the answer") async -> (GateHTTP.Reply, StreamContract.StreamResult)? {
        pack.requestIDs.append(rid)
        let reply: GateHTTP.Reply
        do { reply = try await http.chat(body, requestID: rid) } catch {
            pack.check("\(step): byte contract", false, error.description)
            return nil
        }
        if let id = reply.requestID, id != rid { pack.requestIDs.append(id) }
        if reply.timedOut {
            pack.check("\(step): complete within --timeout", false, "no complete answer within \(options.timeoutSeconds) s (HTTP \(reply.status), \(reply.body.count) bytes)")
            return nil
        }
        if reply.status != 200 {
            let detail: String
            do {
                let e = try StreamContract.checkError(status: reply.status, headers: reply.headers, body: reply.body, viaGateway: options.viaGateway)
                detail = "HTTP \(reply.status) \(e.code): \(e.message) (a valid error envelope)"
            } catch {
                detail = "HTTP \(reply.status), and the error breaks the contract: \(error)"
            }
            pack.check("\(step): a streamed answer", false, detail)
            return nil
        }
        do {
            let stream = try StreamContract.checkStream(status: reply.status, headers: reply.headers, body: reply.body, viaGateway: options.viaGateway)
            pack.check("\(step): byte contract", true, "valid stream, request id \(stream.requestID)")
            return (reply, stream)
        } catch {
            // A mid-stream error chunk is a valid failure signal but a failed pack; name it.
            if let failed = try? StreamContract.checkStream(status: reply.status, headers: reply.headers, body: reply.body, expectError: true, viaGateway: options.viaGateway),
                let e = failed.error
            {
                pack.check("\(step): no cut", false, "the stream was cut: \(failed.contentDeltas) content deltas, then error \(e.code): \(e.message)")
            } else {
                pack.check("\(step): byte contract", false, error.description)
            }
            return nil
        }
    }

    /// end_reason (and `cut`) of one streamed request, from whatever the deployment shows.
    private func serverSide(into pack: inout GateReport.Pack, ids: [String?], before: MetricsSnapshot?, expect: String, stream: Bool, tools: Bool) async {
        if let log = options.accessLogPath.map(AccessLogLookup.init) {
            let line = await log.line(for: ids.compactMap { $0 })
            let reason = line?["end_reason"]?.stringValue
            pack.check("end_reason=\(expect) (access log)", reason == expect && line?["cut"]?.boolValue != true,
                line == nil ? "no access line for \(ids.compactMap { $0 }) in \(log.path)" : "end_reason \(reason ?? "?"), cut \(line?["cut"]?.boolValue ?? false)")
        } else if let before {
            let labels = ["end_reason": expect, "stream": String(stream), "tools": String(tools)]
            let after = await waitForMetrics { $0.sum("mix2api_requests_total", labels) > before.sum("mix2api_requests_total", labels) }
            let delta = (after?.sum("mix2api_requests_total", labels) ?? 0) - before.sum("mix2api_requests_total", labels)
            let cuts = (after?.sum("mix2api_stream_cuts_total") ?? 0) + (after?.sum("mix2api_streams_unterminated_total") ?? 0)
                - before.sum("mix2api_stream_cuts_total") - before.sum("mix2api_streams_unterminated_total")
            pack.check("end_reason=\(expect) (metrics)", delta >= 1 && cuts == 0, "requests{end_reason=\(expect)} +\(Int(delta)), cut or unterminated streams +\(Int(cuts))")
        } else {
            pack.skip("end_reason=\(expect)", "not visible: judged from the bytes (pass --access-log or --metrics-url)")
        }
    }

    private func metrics() async -> MetricsSnapshot? {
        guard let url = options.metricsURL, let reply = try? await http.get(url), reply.status == 200 else { return nil }
        return MetricsSnapshot(text: reply.text)
    }

    /// Scrapes until `done` holds or five seconds pass; the last snapshot either way.
    private func waitForMetrics(_ done: (MetricsSnapshot) -> Bool) async -> MetricsSnapshot? {
        let deadline = ContinuousClock.now + .seconds(5)
        var last: MetricsSnapshot?
        while true {
            last = await metrics() ?? last
            if let last, done(last) { return last }
            if ContinuousClock.now >= deadline { return last }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// True once a content delta (not only the role chunk) has arrived.
    static func hasContent(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("data: {") {
            guard case .object(let chunk)? = try? JSONParser.parse(Array(line.dropFirst(6).utf8)),
                case .object(let choice)? = chunk["choices"]?.arrayValue?.first,
                let content = choice["delta"]?["content"]?.stringValue
            else { continue }
            if !content.isEmpty { return true }
        }
        return false
    }

    static func describe(_ reply: GateHTTP.Reply, _ error: any Error) -> String {
        "HTTP \(reply.status): \(error); body: \(reply.text.prefix(200))"
    }
}

extension GateReport.Pack {
    @discardableResult
    mutating func check(_ name: String, _ passed: Bool, _ detail: String) -> Bool {
        checks.append(.init(name: name, passed: passed, detail: detail))
        return passed
    }

    mutating func skip(_ name: String, _ why: String) {
        checks.append(.init(name: name, passed: nil, detail: why))
    }
}
