import Digest
import JSONCore
import Testing
@testable import SiteProtocol

extension SiteProtocolTests {
    @Suite struct SHA256Tests {
        @Test func knownVectors() {
            #expect(Digest.SHA256.hex(Array("".utf8)) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
            #expect(Digest.SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            #expect(
                Digest.SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                    == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "two-block padding")
        }

        @Test func oneMillionAs() {
            #expect(Digest.SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        }

        @Test func incrementalUpdatesInAnyPiecesMatchOneShot() {
            let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let expected = Digest.SHA256.hex(bytes)
            var rng = SeededGenerator(seed: 7)
            for _ in 0..<20 {
                var h = Digest.SHA256()
                var i = 0
                while i < bytes.count {
                    let n = min(Int.random(in: 1...130, using: &rng), bytes.count - i)
                    if n % 2 == 0 { h.update(bytes[i..<i + n]) } else { h.update(AnySequence(bytes[i..<i + n])) }  // contiguous and not
                    i += n
                }
                #expect(Digest.SHA256.hexString(h.finalize()) == expected)
            }
            var s = Digest.SHA256()
            s.update("a")
            s.update("bc")
            #expect(Digest.SHA256.hexString(s.finalize()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        }
    }

    @Suite struct ConversationKeyTests {
        func msg(_ role: String, _ content: String, calls: [(String, String)] = [], toolCallID: String? = nil) -> JSONValue {
            var o = JSONObject([("role", .string(role)), ("content", .string(content))])
            if !calls.isEmpty {
                o["tool_calls"] = .array(calls.enumerated().map { ["id": .string("call_\($0.offset)"), "name": .string($0.element.0), "arguments": .string($0.element.1)] })
            }
            if let toolCallID { o["tool_call_id"] = .string(toolCallID) }
            return .object(o)
        }

        @Test func firstTurnHasNothingToLookUp() {
            let turn = [msg("system", "be brief"), msg("user", "hi")]
            #expect(ConversationKey.lookupDigest(turn) == nil)
            #expect(ConversationKey.newMessagesStart(turn) == 0)
        }

        @Test func storeOfOneTurnIsLookupOfTheNext() {
            let turn1 = [msg("system", "be brief"), msg("user", "hi")]
            let turn2 = turn1 + [msg("assistant", "hello!"), msg("user", "how are you?")]
            let turn3 = turn2 + [msg("assistant", "", calls: [("Read", #"{"path":"a"}"#)]), msg("tool", "file body", toolCallID: "call_0")]
            #expect(ConversationKey.lookupDigest(turn2) == ConversationKey.storeDigest(turn1))
            #expect(ConversationKey.lookupDigest(turn3) == ConversationKey.storeDigest(turn2))
            #expect(ConversationKey.newMessagesStart(turn2) == 3)
            #expect(ConversationKey.newMessagesStart(turn3) == 5)
            #expect(ConversationKey.storeDigest(turn1).count == 64)
        }

        @Test func theAssistantAnswerItselfIsNotPartOfTheLookup() {
            let a = [msg("user", "hi"), msg("assistant", "answer as the site wrote it"), msg("user", "next")]
            let b = [msg("user", "hi"), msg("assistant", "the client's reformatted copy"), msg("user", "next")]
            #expect(ConversationKey.lookupDigest(a) == ConversationKey.lookupDigest(b))
        }

        @Test func whitespaceRunsDoNotMatter() {
            let a = [msg("user", "  hello \n\n  world  "), msg("assistant", "x")]
            let b = [msg("user", "hello world"), msg("assistant", "x")]
            #expect(ConversationKey.lookupDigest(a) == ConversationKey.lookupDigest(b))
            #expect(ConversationKey.storeDigest([msg("user", "hello world")]) != ConversationKey.storeDigest([msg("user", "helloworld")]))
        }

        @Test func collapsingWhitespaceMatchesTheUnicodeDefinition() {
            #expect("\t a\u{0B}\u{0C}b \r\n".collapsingWhitespace() == "a b", "ASCII whitespace, ends trimmed")
            // Non-ASCII whitespace (NEL, no-break space, ideographic space) counts; other non-ASCII is kept whole.
            #expect("\u{85}héllo\u{A0}\u{3000}wörld 日本\u{2029}".collapsingWhitespace() == "héllo wörld 日本")
            #expect("   ".collapsingWhitespace() == "")
            // Four-byte scalars are copied whole, also at the very end; U+205F is a 3-byte space.
            #expect("😀 \u{205F}😀\u{205F}".collapsingWhitespace() == "😀 😀")
            #expect("x\u{10FFFF}".collapsingWhitespace() == "x\u{10FFFF}")
            // Every scalar up to U+3000 alone between two letters: a space exactly when Unicode says whitespace.
            for v in UInt32(0)...0x3000 {
                guard let scalar = Unicode.Scalar(v) else { continue }
                let expected = scalar.properties.isWhitespace ? "a b" : "a\(Character(scalar))b"
                #expect("a\(Character(scalar))b".collapsingWhitespace() == expected, "U+\(String(v, radix: 16))")
            }
        }

        @Test func toolArgumentKeyOrderAndSpacingDoNotMatter() {
            let a = [msg("assistant", "", calls: [("Write", #"{"path":"a","body":{"x":1,"y":[1,2]}}"#)])]
            let b = [msg("assistant", "", calls: [("Write", #"{ "body": {"y": [1, 2], "x": 1}, "path": "a" }"#)])]
            #expect(ConversationKey.storeDigest(a) == ConversationKey.storeDigest(b))
            let c = [msg("assistant", "", calls: [("Write", #"{"path":"b","body":{"x":1,"y":[1,2]}}"#)])]
            #expect(ConversationKey.storeDigest(a) != ConversationKey.storeDigest(c))
            let d = [msg("assistant", "", calls: [("Edit", #"{"path":"a","body":{"x":1,"y":[1,2]}}"#)])]
            #expect(ConversationKey.storeDigest(a) != ConversationKey.storeDigest(d), "the name counts")
            // Unparsable arguments still digest (whitespace-collapsed).
            #expect(ConversationKey.storeDigest([msg("assistant", "", calls: [("W", "{not json  ")])]) == ConversationKey.storeDigest([msg("assistant", "", calls: [("W", "{not json")])]))
        }

        @Test func everythingElseDistinguishesConversations() {
            let base = [msg("system", "s"), msg("user", "q")]
            let digests = [
                base, [msg("system", "s2"), msg("user", "q")], [msg("system", "s"), msg("user", "q2")], [msg("user", "s"), msg("user", "q")],
                [msg("system", "s"), msg("tool", "q", toolCallID: "a")], [msg("system", "s"), msg("tool", "q", toolCallID: "b")],
                [msg("system", "sq")], [msg("system", "s\u{1}user\u{1}1:q")],
            ].map(ConversationKey.storeDigest)
            #expect(Set(digests).count == digests.count)
        }
    }
}
