import Testing
@testable import SiteProtocol

extension SiteProtocolTests {
    @Suite struct TokenAnswerTests {
        let now: Int64 = 1_700_000_000_000
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1IiwiZXhwIjoxNzAwMDAzNjAwfQ.sig"  // exp 1700003600

        func parse(_ body: String, token: String = "access_token", expiresIn: String = "expires_in") throws(TokenAnswerError) -> (token: String, expiresAtMs: Int64?) {
            try TokenAnswer.parse(body: Array(body.utf8), tokenField: token, expiresInField: expiresIn, nowMs: now)
        }

        @Test func tokenWithExpiresIn() throws {
            let a = try parse(#"{"access_token":"tok","expires_in":3600}"#)
            #expect(a.token == "tok")
            #expect(a.expiresAtMs == now + 3_600_000)
            #expect(try parse(#"{"access_token":"tok","expires_in":"60"}"#).expiresAtMs == now + 60_000, "quoted numbers")
        }

        @Test func dottedPaths() throws {
            let a = try parse(#"{"code":0,"data":{"token":"tok","ttl":120}}"#, token: "data.token", expiresIn: "data.ttl")
            #expect(a.token == "tok")
            #expect(a.expiresAtMs == now + 120_000)
            // The expiry beside a nested token.
            #expect(try parse(#"{"data":{"token":"tok","expiresAt":1700000500000}}"#, token: "data.token").expiresAtMs == 1_700_000_500_000)
            // A key that itself contains a dot.
            #expect(try parse(#"{"data.token":"flat"}"#, token: "data.token").token == "flat")
        }

        @Test func expiryFallbacks() throws {
            #expect(try parse(#"{"access_token":"tok","expiresAt":1700000900000}"#).expiresAtMs == 1_700_000_900_000, "expiresAt in ms")
            #expect(try parse(#"{"access_token":"tok","expiresAt":1700000900}"#).expiresAtMs == 1_700_000_900_000, "a seconds value is recognised")
            #expect(try parse(#"{"access_token":"tok","exp":1700000900}"#).expiresAtMs == 1_700_000_900_000, "exp in seconds")
            #expect(try parse(#"{"access_token":"\#(jwt)"}"#).expiresAtMs == 1_700_003_600_000, "the JWT's own exp")
            #expect(try parse(#"{"access_token":"\#(jwt)","expires_in":10}"#).expiresAtMs == now + 10_000, "the answer wins over the JWT")
            #expect(try parse(#"{"access_token":"opaque"}"#).expiresAtMs == nil)
            #expect(try parse(#"{"access_token":"tok","expires_in":0}"#).expiresAtMs == nil, "a zero lifetime says nothing")
            #expect(try parse(#"{"access_token":"tok","expires_in":"soon"}"#).expiresAtMs == nil)
        }

        @Test func jwtPayloadsWithAndWithoutPadding() {
            #expect(TokenAnswer.jwtExpiryMs("h.eyJleHAiOjE3MDAwMDAwMDEsIm4iOiLDv8O_In0.s") == 1_700_000_001_000, "base64url '_' and no padding")
            #expect(TokenAnswer.jwtExpiryMs("h.eyJleHAiOjE3MDAwMDAwMDEsIm4iOiJ-fiJ9.s") == 1_700_000_001_000, "base64url '-'")
            #expect(TokenAnswer.jwtExpiryMs("h.eyJleHAiOjE3MDAwMDAwMDEsIm4iOiJ-fiJ9==.s") == 1_700_000_001_000, "padding tolerated")
            #expect(TokenAnswer.jwtExpiryMs("not-a-jwt") == nil)
            #expect(TokenAnswer.jwtExpiryMs("a.!!!.c") == nil)
            #expect(TokenAnswer.jwtExpiryMs("a.e30.c") == nil, "{} has no exp")
        }

        @Test func errorsNameTheFieldAndNeverTheTokenOrBody() {
            let cases: [(String, String, String)] = [
                ("not json SECRETBODY", "access_token", "the login answer is not a JSON object"),
                (#"{"token":"SECRETTOKEN"}"#, "access_token", "the login answer has no access_token"),
                (#"{"data":{"tok":"SECRETTOKEN"}}"#, "data.token", "the login answer has no data.token"),
                (#"{"access_token":12345}"#, "access_token", "the login answer's access_token is not a string"),
                (#"{"access_token":"   "}"#, "access_token", "the login answer's access_token is empty"),
                (#"{"access_token":null}"#, "access_token", "the login answer has no access_token"),
            ]
            for (body, field, message) in cases {
                do {
                    _ = try parse(body, token: field)
                    Issue.record("\(body) was accepted")
                } catch {
                    #expect(error.description == message)
                    #expect(!error.description.contains("SECRET"))
                }
            }
        }
    }
}
