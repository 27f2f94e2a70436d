import Foundation
import HTTPTypes
import Testing
@testable import Host

@Suite struct JSONParserTests {
    @Test func roundTripsWhatItParses() throws {
        let text = #"{"b":[1,-2.5e3,true,false,null],"a":"x\"y\\z\n\u00e9\ud83d\ude80","n":12345678901234567890}"#
        let value = try JSONParser.parse(text)
        #expect(value["b"]?.arrayValue?.count == 5)
        #expect(value["a"]?.stringValue == "x\"y\\z\né🚀")
        #expect(value["n"] == .number("12345678901234567890"), "numbers keep their text")
        #expect(value.objectValue?.keys == ["b", "a", "n"], "keys keep their order")
        #expect(try JSONParser.parse(value.serialized) == value)
    }

    @Test(arguments: [
        ("", "unexpected end of input"), ("{", "expected a string key"), (#"{"a" 1}"#, "expected ':'"), ("[1,]", "unexpected character"),
        ("01", "unexpected data after"), (#""\x""#, "invalid escape"), ("tru", "unexpected end of input"), ("{\"a\":1} x", "unexpected data after"),
        ("\"a\nb\"", "control character"), ("1.", "digit expected"), (#""\u12""#, "truncated"),
    ])
    func malformedInputSaysWhere(_ input: String, _ reason: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(input) }
        do { _ = try JSONParser.parse(input) } catch { #expect(error.reason.contains(reason), "\(input): \(error)") }
    }

    @Test func escapedStringsKeepTheirRunsWhole() throws {
        // Runs of plain bytes between escapes are copied as runs: at the start, between escapes,
        // at the end, with multi-byte characters inside them.
        #expect(try JSONParser.parse(#""\nab""#) == .string("\nab"))
        #expect(try JSONParser.parse(#""ab\n""#) == .string("ab\n"))
        #expect(try JSONParser.parse(#""é日\"本\\🚀 x\t""#) == .string("é日\"本\\🚀 x\t"))
        let long = String(repeating: "line of text ", count: 300)
        #expect(try JSONParser.parse("\"\(long)\\n\(long)\\u00e9\(long)\"") == .string(long + "\n" + long + "é" + long))
        // A raw control byte after an escape is still refused, at its own offset.
        do {
            _ = try JSONParser.parse("\"a\\nbc\u{01}d\"")
            Issue.record("a raw control byte was accepted")
        } catch {
            #expect(error.reason.contains("control character") && error.offset == 6, "\(error)")
        }
    }

    @Test func anyStringRoundTripsThroughTheWriter() throws {
        // Random strings over an alphabet heavy in what JSON escapes: the parser must give back
        // exactly what the writer wrote, whatever mix of runs and escapes that makes.
        let alphabet: [String] = ["a", "b", " ", "\"", "\\", "\n", "\t", "\u{01}", "\u{1F}", "é", "日", "🚀", "/", "\u{7F}"]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let text = (0..<Int.random(in: 0...40, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined()
            var out: [UInt8] = []
            JSONWriter.appendString(text, to: &out)
            #expect(try JSONParser.parse(out) == .string(text), "\(text.debugDescription)")
        }
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        do {
            _ = try JSONParser.parse(deep)
            Issue.record("100k levels of nesting were accepted")
        } catch {
            #expect(error.reason.contains("nesting deeper"))
        }
    }

    @Test func invalidUTF8IsRefused() {
        let bytes: [UInt8] = [0x22, 0xFF, 0xFE, 0x22]
        #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes) }
    }

    @Test func loneSurrogatesBecomeReplacementCharacters() throws {
        #expect(try JSONParser.parse(#""\ud800x""#) == .string("\u{FFFD}x"))
    }

    @Test func writerEscapesControlCharacters() {
        var out: [UInt8] = []
        JSONWriter.appendString("a\u{1}\t\"\\", to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #""a\u0001\t\"\\""#)
    }
}

@Suite struct ClientClassifierTests {
    static func request(tools: [String], system: String = "") -> CanonicalRequest {
        var r = CanonicalRequest(requestID: "x", model: "m", stream: true, messages: [.init(role: .system, content: system), .init(role: .user, content: "hi")])
        r.tools = tools.map { .init(name: $0, description: "", parameters: ["type": "object"]) }
        return r
    }

    @Test func forwardedUserAgentWins() {
        var h = HTTPFields()
        h[.userAgent] = "Go-http-client/1.1"
        h[ClientClassifier.forwardedUserAgent] = "opencode/0.15.2 ai-sdk/provider-utils/3.0"
        #expect(ClientClassifier.classify(headers: h, request: Self.request(tools: ["Bash", "Edit", "Read"])) == .opencode)
    }

    @Test func requestShapeWhenNewAPIHidesTheAgent() {
        var h = HTTPFields()
        h[.userAgent] = "Go-http-client/1.1"
        #expect(ClientClassifier.classify(headers: h, request: Self.request(tools: ["Bash", "Edit", "Read", "Write"])) == .claudeCode)
        #expect(ClientClassifier.classify(headers: h, request: Self.request(tools: ["bash", "edit", "read"])) == .opencode)
        #expect(ClientClassifier.classify(headers: h, request: Self.request(tools: [], system: "You are Claude Code, Anthropic's official CLI")) == .claudeCode)
        #expect(ClientClassifier.classify(headers: h, request: Self.request(tools: ["lookup"])) == .newAPI)
    }

    @Test func userAgents() {
        for (ua, kind) in [("claude-cli/2.0.1 (external, sdk-py)", ClientKind.claudeCode), ("OpenAI/Python 1.99.0", .openaiSDK), ("curl/8.0", .other)] {
            var h = HTTPFields()
            h[.userAgent] = ua
            #expect(ClientClassifier.classify(headers: h, request: nil) == kind, "\(ua)")
        }
    }
}

@Suite struct RedactorTests {
    @Test(arguments: [
        "Authorization: Bearer sk-live-1234567890abcdef",
        #"{"password":"hunter2hunter2","user":"a"}"#,
        "token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        "x-api-key: abcdef123456",
        "failed with key sk-proj-ABCDEFGH12345678",
    ])
    func secretsDoNotSurvive(_ text: String) {
        let out = Redactor.redact(text)
        for secret in ["1234567890abcdef", "hunter2hunter2", "sflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "abcdef123456", "ABCDEFGH12345678"] {
            #expect(!out.contains(secret), "\(out)")
        }
    }

    @Test func ordinaryTextIsUntouched() {
        #expect(Redactor.redact("the upstream answered 502 after 3 retries") == "the upstream answered 502 after 3 retries")
    }
}
