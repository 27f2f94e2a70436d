import Foundation
import Testing
@testable import SiteProtocol

extension SiteProtocolTests {
    /// Recorded-style site transcripts (Fixtures/site/<case>.site.sse) through the SSE reader and the
    /// translator. The expected events (<case>.events.txt, one AnswerEvent per line in
    /// SiteTranscript's format) are the contract; regenerate deliberately with UPDATE_GOLDENS=1 and
    /// review the diff. The split tests prove the result does not depend on how TCP cut the bytes.
    @Suite struct SiteGoldenCorpusTests {
        static var directory: URL { BuildProducts.fixtures.appendingPathComponent("site") }

        static let cases: [String] = {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            return names.filter { $0.hasSuffix(".site.sse") }.map { String($0.dropLast(".site.sse".count)) }.sorted()
        }()

        static func transcript(_ name: String) throws -> [UInt8] {
            let url = directory.appendingPathComponent(name + ".site.sse")
            guard let data = FileManager.default.contents(atPath: url.path) else { throw Golden.Mismatch(description: "missing transcript \(url.path)") }
            return Array(data)
        }

        @Test func corpusCoversTheRequiredCases() {
            for required in ["normal", "reasoning", "native-tool-input", "error-chunk", "no-finish", "crlf-comments-garbage", "session-snake-case", "no-done"] {
                #expect(Self.cases.contains(required), "Fixtures/site/\(required).site.sse is missing")
            }
        }

        @Test(arguments: cases)
        func transcriptMatchesGolden(_ name: String) throws {
            let events = SiteTranscript.run(try Self.transcript(name))
            #expect(events.filter(\.isTerminal).count == 1, "exactly one terminal event")
            #expect(events.last?.isTerminal == true, "the terminal event is the last")
            // Golden.check writes under Fixtures/golden; the site corpus lives beside it.
            try Golden.check(Array(SiteTranscript.text(events).utf8), name: "../site/\(name).events.txt")
        }

        @Test(arguments: cases)
        func everyTwoPieceSplitGivesTheSameEvents(_ name: String) throws {
            let bytes = try Self.transcript(name)
            let whole = SiteTranscript.run(bytes)
            for cut in 0...bytes.count {
                let split = SiteTranscript.run([bytes[..<cut], bytes[cut...]])
                if split != whole {
                    Issue.record("\(name) split at byte \(cut) differs:\n\(SiteTranscript.text(split))")
                    return
                }
            }
        }

        @Test(arguments: cases)
        func randomSmallPiecesGiveTheSameEvents(_ name: String) throws {
            let bytes = try Self.transcript(name)
            let whole = SiteTranscript.run(bytes)
            var rng = SeededGenerator(seed: UInt64(truncatingIfNeeded: name.utf8.reduce(5381) { ($0 &* 33) &+ Int($1) }))
            for round in 0..<50 {
                var pieces: [ArraySlice<UInt8>] = []
                var i = 0
                while i < bytes.count {
                    let n = min(Int.random(in: 1...5, using: &rng), bytes.count - i)
                    pieces.append(bytes[i..<i + n])
                    i += n
                }
                let split = SiteTranscript.run(pieces)
                if split != whole {
                    Issue.record("\(name) round \(round) (\(pieces.map(\.count))) differs:\n\(SiteTranscript.text(split))")
                    return
                }
            }
        }

        @Test func everyByteAloneGivesTheSameEvents() throws {
            for name in Self.cases {
                let bytes = try Self.transcript(name)
                #expect(SiteTranscript.run(bytes.indices.map { bytes[$0...$0] }) == SiteTranscript.run(bytes), "\(name)")
            }
        }
    }
}
