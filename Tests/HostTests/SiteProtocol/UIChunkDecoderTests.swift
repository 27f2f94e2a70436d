import JSONCore
import Testing
@testable import SiteProtocol

extension SiteProtocolTests {
    @Suite struct UIChunkDecoderTests {
        func one(_ payload: String) -> SiteChunk? {
            let chunks = UIChunkDecoder.decode(payload)
            #expect(chunks.count == 1, "\(payload) gave \(chunks)")
            return chunks.first
        }

        @Test func startWithMessageMetadata() {
            #expect(
                one(#"{"type":"start","messageId":"m1","messageMetadata":{"sessionId":"s1","exchangeId":"e1"}}"#)
                    == .start(messageID: "m1", sessionID: "s1", exchangeID: "e1"))
        }

        @Test func startWithSnakeCaseAndTopLevelIDs() {
            #expect(one(#"{"type":"start","messageMetadata":{"session_id":"s1","exchange_id":"e1"}}"#) == .start(messageID: nil, sessionID: "s1", exchangeID: "e1"))
            #expect(one(#"{"type":"start","messageId":"m","sessionId":"s2","exchange_id":"e2"}"#) == .start(messageID: "m", sessionID: "s2", exchangeID: "e2"))
            #expect(one(#"{"type":"start","session_id":"s3"}"#) == .start(messageID: nil, sessionID: "s3", exchangeID: nil))
            #expect(one(#"{"type":"start"}"#) == .start(messageID: nil, sessionID: nil, exchangeID: nil))
            #expect(one(#"{"type":"start","messageMetadata":{"sessionId":""}}"#) == .start(messageID: nil, sessionID: nil, exchangeID: nil), "empty ids are no ids")
        }

        @Test func deltas() {
            #expect(one(#"{"type":"text-delta","id":"t1","delta":"Hel"}"#) == .textDelta("Hel"))
            #expect(one(#"{"type":"reasoning-delta","id":"r1","delta":"hmm"}"#) == .reasoningDelta("hmm"))
            #expect(one(#"{"type":"text-delta","id":"t1"}"#) == .textDelta(""))
        }

        @Test func toolInput() {
            #expect(one(#"{"type":"tool-input-start","toolCallId":"c1","toolName":"Write"}"#) == .toolInputStart(id: "c1", name: "Write"))
            #expect(one(#"{"type":"tool-input-delta","toolCallId":"c1","inputTextDelta":"{\"a\""}"#) == .toolInputDelta(id: "c1", fragment: #"{"a""#))
            #expect(
                one(#"{"type":"tool-input-available","toolCallId":"c1","toolName":"Write","input":{"b":1,"a":2}}"#)
                    == .toolInputAvailable(id: "c1", name: "Write", input: .object(JSONObject([("b", 1), ("a", 2)]))))
            #expect(one(#"{"type":"tool-input-available","toolCallId":"c2","toolName":"Noop"}"#) == .toolInputAvailable(id: "c2", name: "Noop", input: .object(JSONObject())))
        }

        @Test func finish() {
            #expect(one(#"{"type":"finish"}"#) == .finish(reason: nil))
            #expect(one(#"{"type":"finish","finishReason":"length"}"#) == .finish(reason: "length"))
            #expect(
                UIChunkDecoder.decode(#"{"type":"finish","messageMetadata":{"sessionId":"s"}}"#) == [.messageMetadata(sessionID: "s", exchangeID: nil), .finish(reason: nil)],
                "metadata on finish comes first")
            #expect(UIChunkDecoder.decode(#"{"type":"finish","usage":{"inputTokens":3,"outputTokens":4}}"#) == [.usage(input: 3, output: 4), .finish(reason: nil)])
        }

        @Test(arguments: [
            (#"{"type":"data-usage","data":{"inputTokens":12,"outputTokens":5}}"#, 12, 5),
            (#"{"type":"data-usage","data":{"prompt_tokens":12,"completion_tokens":5}}"#, 12, 5),
            (#"{"type":"data-usage","data":{"promptTokens":12,"completionTokens":5}}"#, 12, 5),
            (#"{"type":"data-usage","data":{"usage":{"inputTokens":12,"outputTokens":5}}}"#, 12, 5),
            (#"{"type":"data-usage","data":{"usage":{"prompt_tokens":"12","completion_tokens":5}}}"#, 12, 5),
            (#"{"type":"data-usage","data":{"outputTokens":5}}"#, nil, 5),
            (#"{"type":"data-usage","usage":{"promptTokens":12}}"#, 12, nil),
            (#"{"type":"data-usage","data":{"somethingElse":1}}"#, nil, nil),
        ] as [(String, Int?, Int?)])
        func usageUnderCommonNames(_ payload: String, _ input: Int?, _ output: Int?) {
            #expect(one(payload) == .usage(input: input, output: output))
        }

        @Test func messageMetadata() {
            #expect(one(#"{"type":"message-metadata","messageMetadata":{"sessionId":"s","exchangeId":"e"}}"#) == .messageMetadata(sessionID: "s", exchangeID: "e"))
            #expect(one(#"{"type":"message-metadata","messageMetadata":{"other":1}}"#) == .ignored("message-metadata"))
        }

        @Test func errors() {
            #expect(one(#"{"type":"error","errorText":"model overloaded"}"#) == .error("model overloaded"))
            #expect(one(#"{"type":"error","error":"boom"}"#) == .error("boom"))
            #expect(one(#"{"type":"error","error":{"message":"nested"}}"#) == .error("nested"))
            #expect(one(#"{"type":"error","message":"plain"}"#) == .error("plain"))
            #expect(one(#"{"type":"error"}"#) == .error("the site reported an error without a message"))
            let long = String(repeating: "x", count: 5000)
            if case .error(let text)? = one(#"{"type":"error","errorText":"\#(long)"}"#) { #expect(text.count <= 1000) } else { Issue.record("not an error") }
        }

        @Test func abortAndDone() {
            #expect(one(#"{"type":"abort"}"#) == .abort)
            #expect(one("[DONE]") == .done)
            #expect(one(" [DONE] ") == .done)
        }

        @Test(arguments: [
            "text-start", "text-end", "start-step", "finish-step", "reasoning-start", "reasoning-end", "source-url", "source-document", "file",
            "tool-output-available", "data-foo", "data-session", "something-new-in-v6",
        ])
        func otherTypesAreIgnoredNeverFatal(_ type: String) {
            #expect(one(#"{"type":"\#(type)","id":"x","data":{"a":1}}"#) == .ignored(type))
        }

        @Test func malformedPayloads() {
            #expect(one("not json at all") == .malformed("not json at all"))
            #expect(one(#"{"type":"text-delta","delta":"unterminated"#) == .malformed(#"{"type":"text-delta","delta":"unterminated"#))
            #expect(one("[1,2]") == .malformed("[1,2]"), "JSON but not an object")
            #expect(one("42") == .malformed("42"))
            if case .malformed(let prefix)? = one(String(repeating: "z", count: 10_000)) { #expect(prefix.count == 64) } else { Issue.record("not malformed") }
            #expect(one(#"{"no":"type"}"#) == .ignored(""), "an object without a type is tolerated")
            #expect(one("") == .ignored(""), "an empty data line is a keep-alive")
        }
    }
}
