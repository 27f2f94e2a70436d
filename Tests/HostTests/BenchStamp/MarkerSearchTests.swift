import BenchStamp
import Testing

/// The simulator's and the mock's marker search: byte offsets must come back as valid indices of
/// the text they were found in, whatever script comes before, and a near miss is no match.
@Suite struct MarkerSearchTests {
    @Test func findsAtStartMiddleAndEnd() throws {
        for text in ["[[pace:x", "ab [[pace:x", "ab [[pace:"] {
            let range = try #require(MarkerSearch.firstRange(of: "[[pace:", in: text[...]))
            #expect(text[range] == "[[pace:")
        }
    }

    @Test func nearMissesAndShortTextsAreNoMatch() {
        for text in ["", "[", "[[pace", "[[pac:e", "[ [pace:", "[[PACE:"] {
            #expect(MarkerSearch.firstRange(of: "[[pace:", in: text[...]) == nil, "\(text)")
        }
    }

    @Test func aFalseStartBeforeTheMatchIsSkipped() throws {
        let text = "[[[pa [[pac [[pace:1]]"
        let range = try #require(MarkerSearch.firstRange(of: "[[pace:", in: text[...]))
        #expect(text[range.upperBound...] == "1]]")
    }

    @Test func indicesAreValidAfterMultiByteText() throws {
        let text = "héllo ✓ 漢字 🙂 [[fault:stall:5]] tail"
        let open = try #require(MarkerSearch.firstRange(of: "[[fault:", in: text[...]))
        let rest = text[open.upperBound...]
        let close = try #require(MarkerSearch.firstRange(of: "]]", in: rest))
        #expect(rest[..<close.lowerBound] == "stall:5")
        #expect(text[close.upperBound...] == " tail")
    }

    @Test func searchesOnlyWithinTheSubstring() throws {
        let text = "]] before [[fault:a]] after"
        let open = try #require(MarkerSearch.firstRange(of: "[[fault:", in: text[...]))
        let rest = text[open.upperBound...]
        // The "]]" at the very start of the whole text lies outside `rest`.
        let close = try #require(MarkerSearch.firstRange(of: "]]", in: rest))
        #expect(rest[..<close.lowerBound] == "a")
        #expect(MarkerSearch.firstRange(of: "[[fault:", in: text[close.upperBound...]) == nil)
    }

    @Test func paceSpecReadsTheMarkerAfterAPrompt() throws {
        let prompt = String(repeating: "Tool: ü ✓\n", count: 300) + "[[pace:ttft_ms=5,chunks=3,gap_ms=2,chunk_bytes=16]]"
        #expect(try PaceSpec.find(in: prompt) == PaceSpec(ttftMs: 5, chunks: 3, gapMs: 2, chunkBytes: 16))
        #expect(try PaceSpec.find(in: "no marker here") == nil)
        #expect(throws: PaceSpec.Invalid.self) { try PaceSpec.find(in: "[[pace:chunks=3") }
    }
}
