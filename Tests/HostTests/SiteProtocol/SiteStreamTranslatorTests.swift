import JSONCore
import Testing
@testable import SiteProtocol

extension SiteProtocolTests {
    @Suite struct SiteStreamTranslatorTests {
        /// The payloads through one translator, then the end of input.
        func run(_ payloads: [String], end: Bool = true) -> [AnswerEvent] {
            var t = SiteStreamTranslator(upstreamStatus: 200)
            var events: [AnswerEvent] = []
            for p in payloads { events += t.consume(payload: p) }
            if end { events += t.endOfInput() }
            return events
        }

        func failure(_ message: String, _ kind: SiteFailureKind = .upstream) -> AnswerEvent {
            .failure(SiteFailure(kind: kind, message: message, upstreamStatus: 200))
        }

        let start = #"{"type":"start","messageId":"m1","messageMetadata":{"sessionId":"s1","exchangeId":"e1"}}"#
        let finish = #"{"type":"finish"}"#

        @Test func normalAnswer() {
            let events = run([start, #"{"type":"text-start","id":"t"}"#, #"{"type":"text-delta","id":"t","delta":"Hel"}"#, #"{"type":"text-delta","id":"t","delta":"lo"}"#, finish, "[DONE]"])
            #expect(events == [.session(id: "s1", exchange: "e1"), .text("Hel"), .text("lo"), .finish(.stop)])
        }

        @Test func sessionFallbacks() {
            // exchangeId stands in for a missing sessionId; messageId for a missing exchangeId.
            #expect(run([#"{"type":"start","messageId":"m","messageMetadata":{"exchangeId":"e"}}"#, finish]).first == .session(id: "e", exchange: "e"))
            #expect(run([#"{"type":"start","messageId":"m","messageMetadata":{"sessionId":"s"}}"#, finish]).first == .session(id: "s", exchange: "m"))
            // A bare messageId names an answer, not a session: no session event.
            #expect(run([#"{"type":"start","messageId":"m"}"#, finish]) == [.finish(.stop)])
            // Ids that come later (message-metadata) are emitted then, once.
            let late = run([
                #"{"type":"start","messageId":"m"}"#, #"{"type":"text-delta","delta":"a"}"#,
                #"{"type":"message-metadata","messageMetadata":{"session_id":"s","exchange_id":"e"}}"#,
                #"{"type":"message-metadata","messageMetadata":{"sessionId":"other"}}"#, finish,
            ])
            #expect(late == [.text("a"), .session(id: "s", exchange: "e"), .finish(.stop)])
        }

        @Test func sessionIsEmittedOnce() {
            let events = run([start, start, finish])
            #expect(events.filter { if case .session = $0 { true } else { false } }.count == 1)
        }

        @Test func reasoningThenText() {
            let events = run([#"{"type":"reasoning-delta","delta":"think"}"#, #"{"type":"text-delta","delta":"answer"}"#, finish])
            #expect(events == [.reasoning("think"), .text("answer"), .finish(.stop)])
        }

        @Test func toolCallsStreamedThenAvailable() {
            let events = run([
                #"{"type":"tool-input-start","toolCallId":"a","toolName":"Read"}"#,
                #"{"type":"tool-input-delta","toolCallId":"a","inputTextDelta":"{\"path\":"}"#,
                #"{"type":"tool-input-delta","toolCallId":"a","inputTextDelta":"\"x\"}"}"#,
                #"{"type":"tool-input-available","toolCallId":"a","toolName":"Read","input":{"path":"x"}}"#,
                #"{"type":"finish","finishReason":"tool-calls"}"#,
            ])
            #expect(events == [.toolCallStart(index: 0, id: "a", name: "Read"), .toolCallArguments(index: 0, #"{"path":"#), .toolCallArguments(index: 0, #""x"}"#), .toolCallEnd(index: 0), .finish(.toolCalls)])
        }

        @Test func availableWithoutStartEmitsStartArgumentsEnd() {
            let events = run([
                #"{"type":"tool-input-available","toolCallId":"a","toolName":"Read","input":{"b":1,"a":[true,null]}}"#,
                #"{"type":"tool-input-available","toolCallId":"b","toolName":"Write","input":{}}"#, finish,
            ])
            #expect(
                events == [
                    .toolCallStart(index: 0, id: "a", name: "Read"), .toolCallArguments(index: 0, #"{"b":1,"a":[true,null]}"#), .toolCallEnd(index: 0),
                    .toolCallStart(index: 1, id: "b", name: "Write"), .toolCallArguments(index: 1, "{}"), .toolCallEnd(index: 1), .finish(.toolCalls),
                ], "calls make the finish a tool-call finish even without a reason")
        }

        @Test func availableAfterStartWithoutDeltasSendsTheArguments() {
            let events = run([#"{"type":"tool-input-start","toolCallId":"a","toolName":"Read"}"#, #"{"type":"tool-input-available","toolCallId":"a","toolName":"Read","input":{"p":1}}"#, finish])
            #expect(events == [.toolCallStart(index: 0, id: "a", name: "Read"), .toolCallArguments(index: 0, #"{"p":1}"#), .toolCallEnd(index: 0), .finish(.toolCalls)])
        }

        @Test func availableAfterPartialDeltasSendsOnlyTheRemainder() {
            let events = run([
                #"{"type":"tool-input-start","toolCallId":"a","toolName":"Read"}"#, #"{"type":"tool-input-delta","toolCallId":"a","inputTextDelta":"{\"p\":"}"#,
                #"{"type":"tool-input-available","toolCallId":"a","toolName":"Read","input":{"p":12}}"#, finish,
            ])
            #expect(events == [.toolCallStart(index: 0, id: "a", name: "Read"), .toolCallArguments(index: 0, #"{"p":"#), .toolCallArguments(index: 0, "12}"), .toolCallEnd(index: 0), .finish(.toolCalls)])
        }

        @Test func availableAfterCompleteButDifferentlySpacedDeltasDoesNotDuplicate() {
            let events = run([
                #"{"type":"tool-input-start","toolCallId":"a","toolName":"Read"}"#, #"{"type":"tool-input-delta","toolCallId":"a","inputTextDelta":"{ \"p\": 1 }"}"#,
                #"{"type":"tool-input-available","toolCallId":"a","toolName":"Read","input":{"p":1}}"#, finish,
            ])
            #expect(events == [.toolCallStart(index: 0, id: "a", name: "Read"), .toolCallArguments(index: 0, #"{ "p": 1 }"#), .toolCallEnd(index: 0), .finish(.toolCalls)])
        }

        @Test func indicesFollowFirstAppearanceAcrossInterleavedCalls() {
            let events = run([
                #"{"type":"tool-input-start","toolCallId":"x","toolName":"A"}"#, #"{"type":"tool-input-start","toolCallId":"y","toolName":"B"}"#,
                #"{"type":"tool-input-delta","toolCallId":"y","inputTextDelta":"{}"}"#, #"{"type":"tool-input-delta","toolCallId":"x","inputTextDelta":"{}"}"#,
                #"{"type":"tool-input-available","toolCallId":"y","toolName":"B","input":{}}"#, #"{"type":"tool-input-available","toolCallId":"x","toolName":"A","input":{}}"#,
                #"{"type":"tool-input-available","toolCallId":"x","toolName":"A","input":{}}"#, finish,
            ])
            #expect(
                events == [
                    .toolCallStart(index: 0, id: "x", name: "A"), .toolCallStart(index: 1, id: "y", name: "B"), .toolCallArguments(index: 1, "{}"), .toolCallArguments(index: 0, "{}"),
                    .toolCallEnd(index: 1), .toolCallEnd(index: 0), .finish(.toolCalls),
                ], "a repeated available is ignored")
        }

        @Test func deltasBeforeAnyStartWaitForAName() {
            let events = run([
                #"{"type":"tool-input-delta","toolCallId":"a","inputTextDelta":"{\"p\""}"#, #"{"type":"tool-input-start","toolCallId":"a","toolName":"Read"}"#,
                #"{"type":"tool-input-delta","toolCallId":"a","inputTextDelta":":1}"}"#, #"{"type":"tool-input-available","toolCallId":"a","toolName":"Read","input":{"p":1}}"#, finish,
            ])
            #expect(
                events == [
                    .toolCallStart(index: 0, id: "a", name: "Read"), .toolCallArguments(index: 0, #"{"p""#), .toolCallArguments(index: 0, ":1}"), .toolCallEnd(index: 0),
                    .finish(.toolCalls),
                ])
        }

        @Test func emptyOrMissingInputBecomesAnEmptyObject() {
            let events = run([#"{"type":"tool-input-available","toolCallId":"a","toolName":"Now","input":""}"#, #"{"type":"tool-input-available","toolCallId":"b","toolName":"Now","input":null}"#, finish])
            #expect(events.filter { if case .toolCallArguments(_, "{}") = $0 { true } else { false } }.count == 2)
        }

        @Test func openCallsAreClosedAtFinish() {
            let events = run([#"{"type":"tool-input-start","toolCallId":"a","toolName":"Read"}"#, #"{"type":"tool-input-delta","toolCallId":"a","inputTextDelta":"{}"}"#, #"{"type":"finish","finishReason":"tool-calls"}"#])
            #expect(events == [.toolCallStart(index: 0, id: "a", name: "Read"), .toolCallArguments(index: 0, "{}"), .toolCallEnd(index: 0), .finish(.toolCalls)])
        }

        @Test(arguments: [
            ("stop", AnswerFinish.stop), ("length", .length), ("content-filter", .contentFilter), ("tool-calls", .toolCalls), ("other", .stop), ("weird", .stop),
        ])
        func finishReasons(_ reason: String, _ expected: AnswerFinish) {
            #expect(run([#"{"type":"finish","finishReason":"\#(reason)"}"#]) == [.finish(expected)])
        }

        @Test func finishReasonErrorIsAFailure() {
            #expect(run([#"{"type":"text-delta","delta":"a"}"#, #"{"type":"finish","finishReason":"error"}"#]) == [.text("a"), failure("the site ended the answer with an error")])
        }

        @Test func usageComesRightBeforeTheFinishWhetherItArrivesBeforeOrAfter() {
            let after = run([#"{"type":"text-delta","delta":"a"}"#, finish, #"{"type":"data-usage","data":{"inputTokens":10,"outputTokens":2}}"#, "[DONE]"])
            #expect(after == [.text("a"), .usage(prompt: 10, completion: 2), .finish(.stop)])
            let before = run([#"{"type":"data-usage","data":{"prompt_tokens":10}}"#, #"{"type":"data-usage","data":{"completion_tokens":3}}"#, finish])
            #expect(before == [.usage(prompt: 10, completion: 3), .finish(.stop)], "partial counts merge")
            #expect(run([finish]) == [.finish(.stop)], "no usage event when none is known")
            #expect(run([finish, #"{"type":"data-usage","data":{"x":1}}"#, "[DONE]"]) == [.finish(.stop)])
        }

        @Test func finishWaitsForUsageOrTheEnd() {
            var t = SiteStreamTranslator()
            #expect(t.consume(payload: finish).isEmpty, "the site sends data-usage after finish")
            #expect(!t.isTerminated)
            #expect(t.consume(payload: #"{"type":"text-delta","delta":"late"}"#).isEmpty, "the answer is over")
            #expect(t.endOfInput() == [.finish(.stop)])
            #expect(t.isTerminated)
        }

        @Test func errorChunkIsAFailureNeverText() {
            #expect(run([start, #"{"type":"text-delta","delta":"a"}"#, #"{"type":"error","errorText":"model overloaded"}"#]) == [.session(id: "s1", exchange: "e1"), .text("a"), failure("model overloaded")])
            #expect(run([#"{"type":"error","errorText":"Session not found: s1"}"#]) == [failure("Session not found: s1", .sessionNotFound)])
        }

        @Test func abortIsAFailure() {
            #expect(run([#"{"type":"text-delta","delta":"a"}"#, #"{"type":"abort"}"#]) == [.text("a"), failure("the site aborted the answer")])
        }

        @Test func truncatedStreamIsNeverANormalStop() {
            #expect(run([start, #"{"type":"text-delta","delta":"a"}"#]) == [.session(id: "s1", exchange: "e1"), .text("a"), failure("the site's stream ended without a finish")])
            #expect(run([#"{"type":"text-delta","delta":"a"}"#, "[DONE]"]) == [.text("a"), failure("the site's stream ended without a finish")], "[DONE] without finish")
            #expect(run([]) == [failure("the site's stream ended without a finish")])
        }

        @Test func exactlyOneTerminalAndNothingAfterIt() {
            var t = SiteStreamTranslator(upstreamStatus: 200)
            var events = t.consume(payload: #"{"type":"error","errorText":"x"}"#)
            events += t.consume(payload: #"{"type":"text-delta","delta":"after"}"#)
            events += t.consume(payload: finish)
            events += t.consume(payload: "[DONE]")
            events += t.endOfInput()
            events += t.endOfInput()
            #expect(events == [failure("x")])
            #expect(t.droppedAfterTerminal == 3)
        }

        @Test func malformedPayloadsAreCountedAndSkipped() {
            var t = SiteStreamTranslator()
            var events: [AnswerEvent] = []
            for p in ["garbage", #"{"type":"text-delta","delta":"a"}"#, "{broken", finish] { events += t.consume(payload: p) }
            events += t.endOfInput()
            #expect(events == [.text("a"), .finish(.stop)])
            #expect(t.malformedCount == 2)
        }

        @Test func moreThanTwentyMalformedInARowIsGarbage() {
            let twenty = run(Array(repeating: "junk", count: 20) + [#"{"type":"text-delta","delta":"ok"}"#] + Array(repeating: "junk", count: 20) + [finish])
            #expect(twenty == [.text("ok"), .finish(.stop)], "20 in a row are tolerated; a valid chunk resets the run")
            let events = run(Array(repeating: "junk", count: 25) + [#"{"type":"text-delta","delta":"late"}"#, finish])
            #expect(events.count == 1)
            guard case .failure(let f)? = events.first else { Issue.record("\(events)"); return }
            #expect(f.kind == .upstream)
            #expect(f.message.hasPrefix("garbage from the upstream"))
        }

        @Test func sseErrorEventIsAFailure() {
            var t = SiteStreamTranslator(upstreamStatus: 200)
            #expect(t.consume(SSEEvent(event: "error", data: #"{"message":"quota"}"#)) == [failure("quota")])
        }

        @Test func unknownAndStepChunksAreInvisible() {
            let events = run([
                #"{"type":"start-step"}"#, #"{"type":"text-start","id":"t"}"#, #"{"type":"source-url","url":"https://x"}"#, #"{"type":"data-custom","data":{}}"#,
                #"{"type":"brand-new-type"}"#, #"{"type":"text-delta","delta":""}"#, #"{"type":"text-end","id":"t"}"#, #"{"type":"finish-step"}"#, finish,
            ])
            #expect(events == [.finish(.stop)])
        }
    }
}
