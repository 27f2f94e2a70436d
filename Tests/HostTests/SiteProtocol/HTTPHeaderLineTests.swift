import Testing
@testable import SiteProtocol

extension SiteProtocolTests {
    /// The response-head lines libcurl hands the site driver, CRLF included.
    @Suite struct HTTPHeaderLineTests {
        @Test func statusLines() {
            #expect(HTTPHeaderLine("HTTP/1.1 200 OK\r\n") == .status(200))
            #expect(HTTPHeaderLine("HTTP/1.1 100 Continue\r\n") == .status(100))
            #expect(HTTPHeaderLine("HTTP/2 429\r\n") == .status(429), "no reason phrase")
            #expect(HTTPHeaderLine("HTTP/1.1 abc\r\n") == .status(0), "an unreadable code is 0, not a crash")
            #expect(HTTPHeaderLine("HTTP/1.1\r\n") == .status(0))
        }

        @Test func headersAreLowerCasedAndTrimmed() {
            #expect(HTTPHeaderLine("Content-Type: text/event-stream\r\n") == .header(name: "content-type", value: "text/event-stream"))
            #expect(HTTPHeaderLine("Retry-After:\t 30 \t\r\n") == .header(name: "retry-after", value: "30"))
            #expect(HTTPHeaderLine("X-Empty:\r\n") == .header(name: "x-empty", value: ""))
            // Only the first colon splits; later ones belong to the value.
            #expect(HTTPHeaderLine("Location: http://h:8080/x\r\n") == .header(name: "location", value: "http://h:8080/x"))
            // Non-ASCII in a value is kept byte for byte, and only ASCII whitespace is trimmed.
            #expect(HTTPHeaderLine("X-Note: \u{A0}héllo 日本\r\n") == .header(name: "x-note", value: "\u{A0}héllo 日本"))
        }

        @Test func otherLines() {
            #expect(HTTPHeaderLine("\r\n") == .other, "the blank line ending the head")
            #expect(HTTPHeaderLine("") == .other)
            #expect(HTTPHeaderLine("garbage without a colon\r\n") == .other)
        }
    }
}
