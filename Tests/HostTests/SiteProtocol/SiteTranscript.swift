import JSONCore
import Testing
@testable import SiteProtocol

/// The parent of every SiteProtocol suite, so `swift test --filter SiteProtocol` selects them all.
@Suite enum SiteProtocolTests {}

/// Runs recorded site bytes through the reader and the translator the way the driver does, in
/// whatever pieces the test chooses, and renders the result in the stable text of the goldens.
enum SiteTranscript {
    /// Feeds `pieces` in order, then ends the input. A reader error becomes the failure the driver
    /// would report, so every run ends in exactly one terminal event.
    static func run(_ pieces: [ArraySlice<UInt8>], upstreamStatus: Int = 200) -> [AnswerEvent] {
        var reader = SSEReader()
        var translator = SiteStreamTranslator(upstreamStatus: upstreamStatus)
        var events: [AnswerEvent] = []
        for piece in pieces {
            do {
                for event in try reader.feed(Array(piece)) { events += translator.consume(event) }
            } catch {
                if !translator.isTerminated {
                    events.append(.failure(SiteFailure(kind: .upstream, message: error.description, upstreamStatus: upstreamStatus)))
                }
                return events
            }
        }
        for event in reader.finish() { events += translator.consume(event) }
        return events + translator.endOfInput()
    }

    static func run(_ bytes: [UInt8]) -> [AnswerEvent] { run([bytes[...]]) }

    static func run(_ text: String) -> [AnswerEvent] { run(Array(text.utf8)) }

    /// One event per line. Strings are JSON-quoted so that newlines, quotes and non-ASCII text
    /// stay on one line and diff readably.
    static func text(_ events: [AnswerEvent]) -> String {
        events.map(line).joined(separator: "\n") + "\n"
    }

    static func line(_ event: AnswerEvent) -> String {
        func q(_ s: String) -> String { JSONValue.string(s).serialized }
        switch event {
        case .upstreamStatus(let s): return "status \(s)"
        case .session(let id, let exchange): return "session id=\(q(id)) exchange=\(q(exchange))"
        case .text(let s): return "text \(q(s))"
        case .reasoning(let s): return "reasoning \(q(s))"
        case .toolCallStart(let index, let id, let name): return "tool_start \(index) id=\(q(id)) name=\(q(name))"
        case .toolCallArguments(let index, let s): return "tool_args \(index) \(q(s))"
        case .toolCallEnd(let index): return "tool_end \(index)"
        case .usage(let p, let c): return "usage prompt=\(p) completion=\(c)"
        case .finish(let f): return "finish \(f.rawValue)"
        case .failure(let f): return "failure \(f.kind.rawValue) status=\(f.upstreamStatus) retry_after_ms=\(f.retryAfterMs) \(q(f.message))"
        }
    }
}

/// A small deterministic generator (SplitMix64) so random splits are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
