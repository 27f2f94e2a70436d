import JSONCore
import Testing
@testable import SiteProtocol

extension SiteProtocolTests {
    @Suite struct SiteResponseClassifierTests {
        let now: Int64 = 1_700_000_000_000  // 2023-11-14T22:13:20Z

        func classify(_ status: Int, _ type: String? = "application/json", _ body: String = "", retryAfter: String? = nil) -> SiteFailure? {
            SiteResponseClassifier.classify(status: status, contentType: type, body: Array(body.utf8), retryAfter: retryAfter, nowMs: now)
        }

        @Test func answersToReadAreNotFailures() {
            #expect(classify(200, "text/event-stream") == nil)
            #expect(classify(200, "text/event-stream; charset=utf-8") == nil)
            #expect(classify(200, "application/json; charset=utf-8", #"{"parts":[]}"#) == nil)
            #expect(classify(200, "application/vnd.site+json") == nil)
            #expect(classify(200, nil, "data: {}") == nil, "no content type: the body decides")
        }

        @Test func twoHundredWithHTMLIsAnUpstreamError() {
            #expect(classify(200, "text/html; charset=utf-8", "<!doctype html><html>login</html>") == SiteFailure(kind: .upstream, message: "the site answered 200 with text/html instead of an answer", upstreamStatus: 200))
            #expect(classify(200, nil, "  <html><body>maintenance</body></html>")?.kind == .upstream)
            #expect(classify(200, "text/plain", "hello")?.message == "the site answered 200 with text/plain instead of an answer")
            #expect(classify(200, "text/" + String(repeating: "x", count: 5000))!.message.count < 120, "a huge content type is cut")
        }

        @Test func authFailures() {
            #expect(classify(401, "application/json", #"{"error":{"message":"token expired"}}"#) == SiteFailure(kind: .upstreamAuth, message: "token expired", upstreamStatus: 401))
            #expect(classify(403, nil) == SiteFailure(kind: .upstreamAuth, message: "the site refused the credentials (status 403)", upstreamStatus: 403))
        }

        @Test func rateLimitedWithRetryAfterSecondsOrDate() {
            #expect(classify(429, retryAfter: "7") == SiteFailure(kind: .rateLimited, message: "the site is rate limiting (status 429)", upstreamStatus: 429, retryAfterMs: 7000))
            #expect(classify(429, retryAfter: "Tue, 14 Nov 2023 22:13:50 GMT")?.retryAfterMs == 30_000)
            #expect(classify(429, retryAfter: "Tuesday, 14-Nov-23 22:14:20 GMT")?.retryAfterMs == 60_000, "RFC 850")
            #expect(classify(429, retryAfter: "Tue Nov 14 22:13:25 2023")?.retryAfterMs == 5000, "asctime")
            #expect(classify(429, retryAfter: "Tue, 14 Nov 2023 22:00:00 GMT")?.retryAfterMs == 0, "a date in the past means now")
            #expect(classify(429, retryAfter: "soon")?.retryAfterMs == 0)
            #expect(classify(429)?.retryAfterMs == 0)
            #expect(classify(429, "application/json", #"{"msg":"slow down"}"#)?.message == "slow down")
        }

        @Test func sessionNotFound() {
            #expect(classify(404, "application/json", #"{"message":"no such thing"}"#)?.kind == .sessionNotFound)
            #expect(classify(400, "application/json", #"{"error":{"message":"Session not found"}}"#) == SiteFailure(kind: .sessionNotFound, message: "Session not found", upstreamStatus: 400))
            #expect(classify(500, "application/json", #"{"error":{"code":"session_not_found","message":"bad id"}}"#)?.kind == .sessionNotFound, "the code counts too")
            #expect(classify(410, "text/plain", "Unknown session 48d7")?.kind == .sessionNotFound)
        }

        @Test func serverErrorsCarryTheSitesMessage() {
            #expect(classify(500, "application/json", #"{"error":{"message":"db down"}}"#) == SiteFailure(kind: .upstream, message: "db down", upstreamStatus: 500))
            #expect(classify(502, "application/json", #"{"message":"bad gateway"}"#)?.message == "bad gateway")
            #expect(classify(503, "application/json", #"{"msg":"busy"}"#)?.message == "busy")
            #expect(classify(500, "application/json", #"{"error":"plain string"}"#)?.message == "plain string")
            #expect(classify(500, "text/plain", "  upstream\n\n   exploded\t here ")?.message == "upstream exploded here", "whitespace collapsed")
            #expect(classify(502, "text/html", "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>")?.message == "HTML error page (status 502)")
            #expect(classify(504, nil, "<!DOCTYPE html>\n<html>…</html>")?.message == "HTML error page (status 504)")
            #expect(classify(500, "application/json", "") == SiteFailure(kind: .upstream, message: "the site failed (status 500)", upstreamStatus: 500))
            #expect(classify(500, "application/json", #"{"detail":{"x":1}}"#)?.message == "the site failed (status 500)")
        }

        @Test func messagesNeverCarryMoreThan200CharactersOfTheBody() {
            let secretTail = "SECRET-TAIL"
            let plain = String(repeating: "word ", count: 100) + secretTail
            let m1 = classify(500, "text/plain", plain)!.message
            #expect(m1.count <= 200)
            #expect(!m1.contains(secretTail))
            let json = #"{"message":"\#(String(repeating: "a", count: 500))\#(secretTail)"}"#
            let m2 = classify(500, "application/json", json)!.message
            #expect(m2.count <= 200)
            #expect(!m2.contains(secretTail))
        }

        @Test func otherClientErrors() {
            #expect(classify(400, "application/json", #"{"message":"unknown model_slug"}"#) == SiteFailure(kind: .invalidRequest, message: "unknown model_slug", upstreamStatus: 400))
            #expect(classify(413)?.kind == .contextLength)
            #expect(classify(400, "application/json", #"{"message":"maximum context length exceeded"}"#)?.kind == .contextLength)
            #expect(classify(302, "text/html", "<html>moved</html>")?.kind == .upstream)
        }

        @Test func httpDates() {
            #expect(HTTPDate.parseMs("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777_000)
            #expect(HTTPDate.parseMs("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777_000)
            #expect(HTTPDate.parseMs("Sun Nov  6 08:49:37 1994") == 784_111_777_000)
            #expect(HTTPDate.parseMs("Thu, 01 Jan 1970 00:00:00 GMT") == 0)
            #expect(HTTPDate.parseMs("Thu, 29 Feb 2024 12:00:00 GMT") == 1_709_208_000_000)
            #expect(HTTPDate.parseMs("not a date") == nil)
            #expect(HTTPDate.parseMs("Sun, 06 Foo 1994 08:49:37 GMT") == nil)
            #expect(HTTPDate.parseMs("Sun, 06 Nov 1994 25:49:37 GMT") == nil)
        }
    }

    @Suite struct NonStreamAnswerTests {
        func decode(_ body: String) -> [AnswerEvent] { NonStreamAnswer.decode(body: Array(body.utf8), upstreamStatus: 200) }

        @Test func textParts() {
            let events = decode(#"{"id":"m1","messageMetadata":{"sessionId":"s","exchangeId":"e"},"parts":[{"type":"step-start"},{"type":"text","text":"Hel"},{"type":"text","text":"lo"}]}"#)
            #expect(events == [.session(id: "s", exchange: "e"), .text("Hel"), .text("lo"), .finish(.stop)])
        }

        @Test func topLevelSnakeCaseSessionIDs() {
            #expect(decode(#"{"id":"m1","session_id":"s","parts":[{"type":"text","text":"a"}]}"#) == [.session(id: "s", exchange: "m1"), .text("a"), .finish(.stop)])
        }

        @Test func toolInputParts() {
            let events = decode(#"{"parts":[{"type":"text","text":"let me"},{"type":"tool-input","tool_name":"Read","tool_input":{"path":"a"}},{"type":"tool-input","tool_name":"Write","tool_call_id":"c2","tool_input":"{\"x\":1}"}]}"#)
            #expect(
                events == [
                    .text("let me"), .toolCallStart(index: 0, id: "", name: "Read"), .toolCallArguments(index: 0, #"{"path":"a"}"#), .toolCallEnd(index: 0),
                    .toolCallStart(index: 1, id: "c2", name: "Write"), .toolCallArguments(index: 1, #"{"x":1}"#), .toolCallEnd(index: 1), .finish(.toolCalls),
                ])
        }

        @Test func errorPartIsAFailure() {
            #expect(
                decode(#"{"parts":[{"type":"text","text":"partial"},{"type":"error","error_text":"model crashed"},{"type":"text","text":"never"}]}"#)
                    == [.text("partial"), .failure(SiteFailure(kind: .upstream, message: "model crashed", upstreamStatus: 200))])
        }

        @Test func usageAndFinishReason() {
            #expect(decode(#"{"parts":[{"type":"text","text":"a"}],"usage":{"prompt_tokens":5,"completion_tokens":1},"finishReason":"length"}"#) == [.text("a"), .usage(prompt: 5, completion: 1), .finish(.length)])
        }

        @Test func notAnAnswer() {
            #expect(decode("<html>oops</html>") == [.failure(SiteFailure(kind: .upstream, message: "the site's answer is neither JSON nor an event stream", upstreamStatus: 200))])
            #expect(decode(#"{"error":{"message":"quota exceeded"}}"#) == [.failure(SiteFailure(kind: .upstream, message: "quota exceeded", upstreamStatus: 200))])
            #expect(decode(#"{"id":"x"}"#) == [.failure(SiteFailure(kind: .upstream, message: "the site's answer has no parts", upstreamStatus: 200))])
        }

        @Test func anEventStreamBodyIsDecodedAsAStream() {
            let sse = "data: {\"type\":\"start\",\"messageMetadata\":{\"sessionId\":\"s\"}}\n\ndata: {\"type\":\"text-delta\",\"delta\":\"hi\"}\n\ndata: {\"type\":\"finish\"}\n\ndata: [DONE]\n\n"
            #expect(decode(sse) == [.session(id: "s", exchange: "s"), .text("hi"), .finish(.stop)])
            #expect(decode("\u{FEFF}\n: comment\ndata: {\"type\":\"text-delta\",\"delta\":\"hi\"}") == [.text("hi"), .failure(SiteFailure(kind: .upstream, message: "the site's stream ended without a finish", upstreamStatus: 200))])
            #expect(decode("event: message\ndata: {\"type\":\"finish\"}") == [.finish(.stop)])
        }
    }
}
