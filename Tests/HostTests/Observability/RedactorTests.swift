import Foundation
import HTTPTypes
import Testing
@testable import Host

/// Credentials never survive redaction, whatever shape they arrive in.
@Suite struct RedactorCoverageTests {
    @Test(arguments: [
        ("Authorization: Bearer abc.def-ghi_123", "abc.def-ghi_123"),
        ("Authorization: Basic YWRtaW46c2VjcmV0", "YWRtaW46c2VjcmV0"),
        (#"{"username":"admin","password":"hunter2hunter"}"#, "hunter2hunter"),
        (#"config: {\"password\":\"escaped-pass-1\"}"#, "escaped-pass-1"),
        ("x-api-key: key-1234567890", "key-1234567890"),
        ("api_key=abcdef123456&x=1", "abcdef123456"),
        ("?access_token=tok_9876543210", "tok_9876543210"),
        ("session_token: s3ss10n-t0ken", "s3ss10n-t0ken"),
        ("Cookie: sid=cookie-one-1; other=cookie-two-2", "cookie-two-2"),
        ("Set-Cookie: sid=cookie-three; Path=/", "cookie-three"),
        ("redis://:redis-pass-42@cache:6379/0", "redis-pass-42"),
        ("https://user:url-pass-99@example.com/x", "url-pass-99"),
        ("client_secret=cl13nt-s3cr3t", "cl13nt-s3cr3t"),
        ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig-part_x", "eyJzdWIiOiIxMjM0NTY3ODkwIn0"),
        ("the key sk-proj_ABCDEFGHIJKLMNOP leaked", "sk-proj_ABCDEFGHIJKLMNOP"),
    ])
    func patternsAreRedacted(text: String, secret: String) {
        let out = Redactor.redact(text)
        #expect(!out.contains(secret), "\(text) → \(out)")
        #expect(out.contains("redacted"))
    }

    @Test func ordinaryTextIsLeftAlone() {
        let text = #"{"model":"mock-long","messages":[{"role":"user","content":"tokens are counted"}],"max_tokens":16}"#
        #expect(Redactor.redact(text) == text)
    }

    @Test func knownSecretsAreRedactedWhereverTheyAppear() {
        SecretRegistry.register("pl4nted-inbound-key-77")
        let config = try! JSONParser.parse(#"""
            {"base_url":"http://127.0.0.1:1","auth_mode":"managed","token":"static-site-token-55",
             "token_body_json":"{\"username\":\"operator-user\",\"password\":\"pl4nted-pw-xyz\"}",
             "token_field":"access_token","token_path":"/v2/token",
             "token_headers_json":"{\"X-Login-Secret\":\"hdr-s3cret-value\",\"Accept\":\"application/json\"}"}
            """#)
        SecretRegistry.registerCredentials(in: config)
        let text = "upstream said: user operator-user failed with pl4nted-pw-xyz, token static-site-token-55, hdr-s3cret-value; key pl4nted-inbound-key-77 at /v2/token (access_token)"
        let out = Redactor.redact(text)
        for secret in ["pl4nted-pw-xyz", "static-site-token-55", "hdr-s3cret-value", "pl4nted-inbound-key-77"] {
            #expect(!out.contains(secret), "\(secret) in \(out)")
        }
        // Settings about credentials and the user name beside a password are not secrets.
        #expect(out.contains("operator-user"))
        #expect(out.contains("/v2/token"))
        #expect(out.contains("(access_token)"))
    }

    @Test func credentialHeadersAreReplacedWhole() {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer abcdefghijkl"
        headers[HTTPField.Name("x-api-key")!] = "k-123456789"
        headers[HTTPField.Name("X-Upstream-Token")!] = "whatever-it-is"
        headers[.cookie] = "a=b; c=d"
        headers[.userAgent] = "opencode/1.0"
        let out = Dictionary(uniqueKeysWithValues: HeaderRedaction.sanitized(headers).map { ($0.name.lowercased(), $0.value) })
        #expect(out["authorization"] == "<redacted>")
        #expect(out["x-api-key"] == "<redacted>")
        #expect(out["x-upstream-token"] == "<redacted>")
        #expect(out["cookie"] == "<redacted>")
        #expect(out["user-agent"] == "opencode/1.0")
    }
}

