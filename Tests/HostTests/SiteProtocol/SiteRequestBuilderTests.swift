import JSONCore
import Testing
@testable import SiteProtocol

extension SiteProtocolTests {
    @Suite struct SiteRequestBuilderTests {
        func msg(_ role: String, _ content: String, extra: [(String, JSONValue)] = []) -> JSONValue {
            .object(JSONObject([("role", .string(role)), ("content", .string(content))] + extra))
        }

        func request(_ messages: [JSONValue], model: String = "mix/qwen-3-235b-instruct", extra: [(String, JSONValue)] = []) -> JSONValue {
            var o = JSONObject([("request_id", "r1"), ("model", .string(model)), ("stream", true), ("messages", .array(messages))])
            for (key, value) in extra { o[key] = value }
            return .object(o)
        }

        func body(_ request: JSONValue, _ options: SiteRequestOptions = SiteRequestOptions(), _ continuation: SiteContinuation? = nil) throws -> JSONValue {
            try JSONParser.parse(try SiteRequestBuilder.build(request: request, options: options, continuation: continuation))
        }

        let conversation: [JSONValue] = [
            .object(JSONObject([("role", "system"), ("content", "You are a coding agent.")])),
            .object(JSONObject([("role", "user"), ("content", "Create hello.txt")])),
            .object(
                JSONObject([
                    ("role", "assistant"), ("content", ""), ("reasoning", "…"),
                    ("tool_calls", [["id": "call_1", "name": "Write", "arguments": #"{"file_path":"hello.txt"}"#]]),
                ])),
            .object(JSONObject([("role", "tool"), ("tool_call_id", "call_1"), ("name", "Write"), ("content", "ok"), ("is_error", false)])),
        ]

        @Test func firstTurnShape() throws {
            let b = try body(request([msg("system", "Be brief."), msg("user", "hi")], extra: [("temperature", .number("0.2")), ("top_p", 1)]))
            #expect(b.objectValue?.keys == ["request", "is_personalized", "stream", "messages", "temperature", "top_p", "max_tokens"])
            let r = b["request"]!
            #expect(r.objectValue?.keys == ["agent_slug", "model_slug", "locale", "modes", "query"])
            #expect(r["agent_slug"] == "web-general")
            #expect(r["model_slug"] == "qwen-3-235b-instruct")
            #expect(r["locale"] == ["location": "Asia/Shanghai", "language": "zh-CN"])
            #expect(r["modes"] == ["search": true])
            #expect(r["query"] == "[system]\nBe brief.\n\n[user]\nhi")
            #expect(b["is_personalized"] == true)
            #expect(b["stream"] == true)
            #expect(b["messages"] == [["role": "user", "content": "hi"]])
            #expect(b["session_id"] == nil, "a first turn never carries session ids")
            #expect(b["exchange_id"] == nil)
            #expect(b["temperature"] == .number("0.2"))
            #expect(b["top_p"] == 1)
            #expect(b["max_tokens"] == 8192)
        }

        @Test func optionalFieldsAndOptions() throws {
            var o = SiteRequestOptions(agentSlug: "web-coder", localeLocation: "Europe/Berlin", localeLanguage: "de-DE", personaID: "p-default", modes: nil, isPersonalized: false)
            o.maxNewTokens = 1000
            let plain = try body(request([msg("user", "hi")], model: "qwen-plain", extra: [("stream", false), ("max_tokens", 4096)]), o)
            #expect(plain["request"]?["model_slug"] == "qwen-plain")
            #expect(plain["request"]?["agent_slug"] == "web-coder")
            #expect(plain["request"]?["locale"] == ["location": "Europe/Berlin", "language": "de-DE"])
            #expect(plain["request"]?["persona_id"] == "p-default")
            #expect(plain["request"]?["modes"] == nil)
            #expect(plain["is_personalized"] == false)
            #expect(plain["stream"] == false)
            #expect(plain["max_tokens"] == 1000, "clamped to the model's max_new_tokens")
            #expect(plain["temperature"] == nil)
            let smaller = try body(request([msg("user", "hi")], extra: [("max_tokens", 300)]), o)
            #expect(smaller["max_tokens"] == 300)
            let persona = try body(request([msg("user", "hi")], extra: [("session", ["scope": "x", "persona_id": "p-request"])]), o)
            #expect(persona["request"]?["persona_id"] == "p-request", "the host's per-request persona wins")
        }

        @Test func modelSlugs() {
            #expect(SiteRequestBuilder.modelSlug("mix/qwen-3-235b-instruct") == "qwen-3-235b-instruct")
            #expect(SiteRequestBuilder.modelSlug("qwen-3-235b-instruct") == "qwen-3-235b-instruct")
            #expect(SiteRequestBuilder.modelSlug("a/b/c") == "b/c", "only the provider prefix goes")
            #expect(SiteRequestBuilder.modelSlug("trailing/") == "trailing/")
        }

        @Test func wholeHistoryRendersToolCallsAndResults() throws {
            let b = try body(request(conversation))
            #expect(
                b["request"]?["query"]
                    == .string(
                        "[system]\nYou are a coding agent.\n\n[user]\nCreate hello.txt\n\n[assistant]\n<tool_call name=\"Write\" id=\"call_1\">{\"file_path\":\"hello.txt\"}</tool_call>\n\n<tool_result name=\"Write\" id=\"call_1\">ok</tool_result>"
                    ))
            #expect(
                b["messages"]
                    == [
                        ["role": "user", "content": "Create hello.txt"], ["role": "assistant", "content": "<tool_call name=\"Write\" id=\"call_1\">{\"file_path\":\"hello.txt\"}</tool_call>"],
                        ["role": "user", "content": "<tool_result name=\"Write\" id=\"call_1\">ok</tool_result>"],
                    ])
        }

        @Test func continuationSendsOnlyWhatIsNew() throws {
            let c = SiteContinuation(sessionID: "s1", exchangeID: "e1", newMessagesStart: 3)
            let b = try body(request(conversation), SiteRequestOptions(), c)
            #expect(b["session_id"] == "s1")
            #expect(b["exchange_id"] == "e1")
            #expect(b["request"]?["query"] == "<tool_result name=\"Write\" id=\"call_1\">ok</tool_result>")
            #expect(b["messages"] == [["role": "user", "content": "<tool_result name=\"Write\" id=\"call_1\">ok</tool_result>"]])

            let more = conversation + [msg("assistant", "Done."), msg("tool", "err", extra: [("tool_call_id", "c2"), ("name", "Bash"), ("is_error", true)]), msg("user", "and now?")]
            let b2 = try body(request(more), SiteRequestOptions(), SiteContinuation(sessionID: "s1", exchangeID: "e2", newMessagesStart: 5))
            #expect(b2["request"]?["query"] == "<tool_result name=\"Bash\" id=\"c2\" error=\"true\">err</tool_result>\n\nand now?")
            #expect(b2["messages"]?.arrayValue?.count == 2)
        }

        @Test func continuationWithNothingNewFallsBackToTheWholeHistory() throws {
            let messages = [msg("user", "hi"), msg("assistant", "prefill")]
            let prepared = try SiteRequestBuilder.prepare(request: request(messages), options: SiteRequestOptions(), continuation: SiteContinuation(sessionID: "s", exchangeID: "e", newMessagesStart: 2))
            #expect(!prepared.continued)
            let b = try JSONParser.parse(prepared.body)
            #expect(b["session_id"] == nil)
            #expect(b["request"]?["query"] == "[user]\nhi\n\n[assistant]\nprefill")
        }

        @Test func tokenEstimator() {
            #expect(SiteRequestBuilder.estimateTokens("") == 0)
            #expect(SiteRequestBuilder.estimateTokens("abcd") == 1)
            #expect(SiteRequestBuilder.estimateTokens("abcde") == 2)
            #expect(SiteRequestBuilder.estimateTokens("你好") == 2)
            #expect(SiteRequestBuilder.estimateTokens("ab🚀") == 2)
        }

        @Test func oldestTurnsAreDroppedFirstKeepingSystemAndLastUser() throws {
            // Each turn is "[user]\n" + 400 ASCII chars ≈ 102 tokens (+1 separator).
            let long = String(repeating: "x", count: 400)
            var messages = [msg("system", "sys")]
            for i in 0..<10 { messages += [msg("user", "u\(i) " + long), msg("assistant", "a\(i) " + long)] }
            messages.append(msg("user", "final question"))
            var o = SiteRequestOptions()
            o.maxInputTokens = 600
            o.reservedOutputTokens = 100
            let prepared = try SiteRequestBuilder.prepare(request: request(messages), options: o)
            let q = prepared.query
            #expect(q.hasPrefix("[system]\nsys\n\n"))
            #expect(q.hasSuffix("[user]\nfinal question"))
            #expect(prepared.estimatedInputTokens <= 500)
            #expect(q.contains("a9 ") && q.contains("u9 "), "the newest turns stay")
            #expect(!q.contains("u0 ") && !q.contains("a0 "), "the oldest go")
            #expect(q.contains("earlier turns omitted]"))
            #expect(prepared.droppedTurns > 0)
            let b = try JSONParser.parse(prepared.body)
            #expect((b["messages"]?.arrayValue?.count ?? 0) <= 6)
            #expect(b["messages"]?.arrayValue?.last == ["role": "user", "content": "final question"])
        }

        @Test func theLastUserTurnStaysEvenBehindNewerToolTurns() throws {
            let long = String(repeating: "y", count: 800)
            let messages = [
                msg("system", "sys"), msg("user", "old " + long), msg("assistant", "old answer " + long), msg("user", "the question"),
                msg("assistant", "", extra: [("tool_calls", [["id": "c1", "name": "Read", "arguments": "{}"]])]), msg("tool", "r1 " + long, extra: [("tool_call_id", "c1"), ("name", "Read")]),
                msg("assistant", "", extra: [("tool_calls", [["id": "c2", "name": "Read", "arguments": "{}"]])]), msg("tool", "r2 " + long, extra: [("tool_call_id", "c2"), ("name", "Read")]),
            ]
            var o = SiteRequestOptions()
            o.maxInputTokens = 500
            o.reservedOutputTokens = 0
            let q = try SiteRequestBuilder.prepare(request: request(messages), options: o).query
            #expect(q.contains("[user]\nthe question"))
            #expect(q.contains("r2 "), "the newest tool result stays")
            #expect(!q.contains("old "))
        }

        @Test func contextLengthExceededWhenSystemAndLastTurnDoNotFit() {
            var o = SiteRequestOptions()
            o.maxInputTokens = 110
            o.reservedOutputTokens = 10
            let messages = [msg("system", String(repeating: "s", count: 200)), msg("user", String(repeating: "q", count: 300))]
            #expect(throws: SiteRequestError.self) { try SiteRequestBuilder.build(request: request(messages), options: o) }
            do {
                _ = try SiteRequestBuilder.build(request: request(messages), options: o)
            } catch {
                guard case .contextLengthExceeded(let estimated, let limit) = error else { Issue.record("\(error)"); return }
                #expect(limit == 100)
                #expect(estimated > 100)
                #expect(error.description.contains("100"))
            }
            // With a continuation the new part alone is measured: 300 ASCII characters ≈ 75 tokens.
            let c = SiteContinuation(sessionID: "s", exchangeID: "e", newMessagesStart: 1)
            #expect(throws: Never.self) { try SiteRequestBuilder.build(request: request(messages), options: o, continuation: c) }
            o.maxInputTokens = 60
            #expect(throws: SiteRequestError.contextLengthExceeded(estimated: 75, limit: 50)) { try SiteRequestBuilder.build(request: request(messages), options: o, continuation: c) }
        }

        @Test func invalidRequests() {
            #expect(throws: SiteRequestError.invalidRequest("the request has no model")) {
                try SiteRequestBuilder.build(request: ["messages": []], options: SiteRequestOptions())
            }
            #expect(throws: SiteRequestError.invalidRequest("the request has no messages")) {
                try SiteRequestBuilder.build(request: ["model": "m"], options: SiteRequestOptions())
            }
        }

        @Test func attributesAreEscaped() {
            #expect(SiteRequestBuilder.toolResult(msg("tool", "x", extra: [("name", "a\"b<c&"), ("tool_call_id", "1")])) == "<tool_result name=\"a&quot;b&lt;c&amp;\" id=\"1\">x</tool_result>")
        }
    }

    @Suite struct ModelProfileTests {
        @Test func perModelProfilesWithDefaults() throws {
            let profiles = try ModelProfile.parse(
                json: #"{"qwen-3-235b-instruct": {"context_window": 32768, "max_input_tokens": 28000, "max_new_tokens": "4096"}, "small": {"max_new_tokens": 512, "reserved_output_tokens": 256}}"#,
                defaults: .standard)
            #expect(profiles.profile(for: "qwen-3-235b-instruct") == ModelProfile(contextWindow: 32768, maxInputTokens: 28000, maxNewTokens: 4096))
            #expect(profiles.profile(for: "mix/qwen-3-235b-instruct").contextWindow == 32768, "found without the provider prefix")
            #expect(profiles.profile(for: "small") == ModelProfile(contextWindow: 200_000, maxInputTokens: 120_000, maxNewTokens: 512, reservedOutputTokens: 256))
            #expect(profiles.profile(for: "unknown") == .standard)
            #expect(try ModelProfiles.parse(json: nil, defaults: .standard).models.isEmpty)
            #expect(try ModelProfiles.parse(json: "  ", defaults: .standard).models.isEmpty)
        }

        @Test func optionsTakeTheProfileAndTheReservedTokens() {
            let o = SiteRequestOptions(profile: ModelProfile(contextWindow: 1000, maxInputTokens: 800, maxNewTokens: 100), reservedOutputTokens: 50)
            #expect(o.inputTokenLimit == 750)
            #expect(o.maxNewTokens == 100)
            let own = SiteRequestOptions(profile: ModelProfile(contextWindow: 1000, maxInputTokens: 800, maxNewTokens: 100, reservedOutputTokens: 300), reservedOutputTokens: 50)
            #expect(own.inputTokenLimit == 500, "the model's own reserve wins")
        }

        @Test(arguments: [
            ("{", "MODEL_PROFILE_JSON is not valid JSON"),
            ("[1]", "MODEL_PROFILE_JSON must be an object of model names, not an array"),
            (#"{"m": 5}"#, #"MODEL_PROFILE_JSON: model "m" must be an object, not a number"#),
            (#"{"m": {"context_window": -1}}"#, #"MODEL_PROFILE_JSON: model "m": context_window must be a positive integer"#),
            (#"{"m": {"max_input_tokens": "lots"}}"#, #"MODEL_PROFILE_JSON: model "m": max_input_tokens must be a positive integer"#),
            (#"{"m": {"max_new_tokens": 1.5}}"#, #"MODEL_PROFILE_JSON: model "m": max_new_tokens must be a positive integer"#),
        ])
        func errorsNameTheModelAndField(_ json: String, _ message: String) {
            do {
                _ = try ModelProfile.parse(json: json, defaults: .standard)
                Issue.record("accepted \(json)")
            } catch {
                #expect(error.description.hasPrefix(message), "\(error.description)")
            }
        }
    }
}
