import Foundation
import Testing
@testable import Host
@testable import SiteProtocol

extension SiteProtocolTests {
    /// The whole way down: recorded site SSE → the driver's events → the OpenAI SSE a client
    /// reads, pinned by goldens (Fixtures/site/<case>.openai.sse), and identical whichever byte
    /// the upstream bytes were split at.
    @Suite struct SiteToOpenAIGoldenTests {
        /// The driver's one-to-one mapping (SiteStreamRun → ABI → HostBridge), as plain values.
        static func driverEvents(_ events: [AnswerEvent]) -> [DriverEvent] {
            events.map { e -> DriverEvent in
                switch e {
                case .upstreamStatus(let s): .upstreamStatus(s)
                case .session(let id, let exchange): .session(id: id, exchange: exchange)
                case .text(let s): .text(s)
                case .reasoning(let s): .reasoning(s)
                case .toolCallStart(let i, let id, let name): .toolCallStart(index: i, id: id, name: name)
                case .toolCallArguments(let i, let s): .toolCallArguments(index: i, fragment: s)
                case .toolCallEnd(let i): .toolCallEnd(index: i)
                case .usage(let p, let c): .usage(prompt: p, completion: c)
                case .finish(let f):
                    .finish([.stop: .stop, .length: .length, .toolCalls: .toolCalls, .contentFilter: .contentFilter][f]!)
                case .failure(let f):
                    .error(DriverFailure(
                        [.upstream: .upstream, .upstreamAuth: .upstreamAuth, .rateLimited: .rateLimited, .timeout: .timeout, .unavailable: .unavailable,
                         .invalidRequest: .invalidRequest, .contextLength: .contextLength, .sessionNotFound: .upstream][f.kind]!,
                        f.message, upstreamStatus: f.upstreamStatus, retryAfterMilliseconds: f.retryAfterMs))
                }
            }
        }

        static func openAI(_ events: [AnswerEvent]) -> [UInt8] {
            var encoder = OpenAIStreamEncoder(id: "chatcmpl-golden", created: 1_700_000_000, model: "site")
            var out: [UInt8] = []
            var usage: Int?
            for event in driverEvents(events) {
                switch event {
                case .usage(_, let c): usage = c
                case .finish(let r): encoder.finish(r, promptTokens: 42, completionTokens: usage, into: &out)
                case .error(let f): encoder.fail(ClientError(f), into: &out)
                default: encoder.encode(event, into: &out)
                }
            }
            return out
        }

        @Test(arguments: SiteGoldenCorpusTests.cases)
        func siteTranscriptBecomesTheGoldenOpenAIStream(_ name: String) throws {
            let bytes = try SiteGoldenCorpusTests.transcript(name)
            let whole = Self.openAI(SiteTranscript.run(bytes))
            try Golden.check(whole, name: "../site/\(name).openai.sse")
            for cut in 0...bytes.count {
                let split = Self.openAI(SiteTranscript.run([bytes[..<cut], bytes[cut...]]))
                #expect(split == whole, "split at byte \(cut) changes the client's bytes")
                if split != whole { break }
            }
        }
    }
}
