import Benchmark
import Host
import JSONCore
import SiteProtocol
import ToolProtocol

/// Per-delta costs of the streaming hot paths, with allocations. Run with
/// `swift package --disable-sandbox benchmark` (see the README); numbers go to the output, not
/// into tests.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .mallocCountTotal, .throughput], maxDuration: .seconds(2), maxIterations: 1_000_000)

    // A typical agent answer: a sentence, then a call with a multi-line file body, cut into the
    // small deltas a model streams (about 7 bytes each).
    let answer = "I'll write the file now.\n<tool_calls>\n<invoke name=\"Write\">\n<parameter name=\"file_path\">/work/src/main.swift</parameter>\n"
        + "<parameter name=\"content\">" + String(repeating: "let x = compute(\"value\") // a line of code\n", count: 40) + "</parameter>\n</invoke>\n</tool_calls>"
    let deltas: [String] = stride(from: 0, to: answer.count, by: 7).map { i in
        let start = answer.index(answer.startIndex, offsetBy: i)
        let end = answer.index(start, offsetBy: min(7, answer.distance(from: start, to: answer.endIndex)))
        return String(answer[start..<end])
    }
    let plain = Array(repeating: "plain text, ", count: 200)

    Benchmark("ToolCallDetector: an answer with a call, \(deltas.count) deltas") { benchmark in
        for _ in benchmark.scaledIterations {
            var detector = ToolCallDetector()
            for delta in deltas { blackHole(detector.feed(delta)) }
            blackHole(detector.finish())
        }
    }

    Benchmark("ToolCallDetector: plain text, \(plain.count) deltas") { benchmark in
        for _ in benchmark.scaledIterations {
            var detector = ToolCallDetector()
            for delta in plain { blackHole(detector.feed(delta)) }
        }
    }

    let block = String(answer[answer.range(of: "<tool_calls>")!.upperBound..<answer.range(of: "</tool_calls>")!.lowerBound])
    Benchmark("ToolCallParser: one block") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try? ToolCallParser.parse(block)) }
    }

    // The site's UI-message stream: one text-delta frame, through the SSE reader and translator.
    let frame = Array(#"data: {"type":"text-delta","id":"t1","delta":"Hello, wor"}"#.utf8) + [0x0A, 0x0A]
    Benchmark("Site stream: SSE read + chunk decode + translate, per frame") { benchmark in
        var reader = SSEReader()
        var translator = SiteStreamTranslator(upstreamStatus: 200)
        _ = translator.consume(payload: #"{"type":"start","messageMetadata":{"sessionId":"s","exchangeId":"e"}}"#)
        for _ in benchmark.scaledIterations {
            for event in (try? reader.feed(frame)) ?? [] { blackHole(translator.consume(event)) }
        }
    }

    // The pieces of the per-frame path one by one, per frame or per delta.
    let payload = #"{"type":"text-delta","id":"t1","delta":"Hello, wor"}"#
    Benchmark("SSE read, per text-delta frame") { benchmark in
        var reader = SSEReader()
        for _ in benchmark.scaledIterations { blackHole((try? reader.feed(frame))?.count) }
    }
    Benchmark("Chunk decode, per text-delta payload") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(UIChunkDecoder.decode(payload)) }
    }
    Benchmark("ToolCallDetector, per 7-byte delta") { benchmark in
        var detector = ToolCallDetector()
        for _ in benchmark.scaledIterations { blackHole(detector.feed("Hello, ")) }
    }
    Benchmark("OpenAI chunk encode, per text delta") { benchmark in
        var encoder = EncoderProbe(.openAI)
        for _ in benchmark.scaledIterations { blackHole(encoder.encode(text: "Hello, ")) }
    }
    Benchmark("Anthropic event encode, per text delta") { benchmark in
        var encoder = EncoderProbe(.anthropic)
        for _ in benchmark.scaledIterations { blackHole(encoder.encode(text: "Hello, ")) }
    }
}
