import Glibc
import Host
import JSONCore
import SiteProtocol
import ToolProtocol

// `hotpaths-profile WORKLOAD N`: runs one hot path N times, for `valgrind --tool=callgrind`
// (instruction counts are repeatable on a busy machine, unlike wall time). The inputs are those of
// Benchmarks/HotPaths. Instructions per iteration = (Ir at N − Ir at 0) / N; see README "Performance".
let arguments = CommandLine.arguments
guard arguments.count == 3, let iterations = Int(arguments[2]) else {
    print("usage: hotpaths-profile parser|detector|detector-plain|site-frame|openai-encode|anthropic-encode N")
    exit(2)
}

let answer = "I'll write the file now.\n<tool_calls>\n<invoke name=\"Write\">\n<parameter name=\"file_path\">/work/src/main.swift</parameter>\n"
    + "<parameter name=\"content\">" + String(repeating: "let x = compute(\"value\") // a line of code\n", count: 40) + "</parameter>\n</invoke>\n</tool_calls>"
let deltas: [String] = stride(from: 0, to: answer.count, by: 7).map { i in
    let start = answer.index(answer.startIndex, offsetBy: i)
    let end = answer.index(start, offsetBy: min(7, answer.distance(from: start, to: answer.endIndex)))
    return String(answer[start..<end])
}
let block = String(answer[answer.firstRange(of: "<tool_calls>")!.upperBound..<answer.firstRange(of: "</tool_calls>")!.lowerBound])
let frame = Array(#"data: {"type":"text-delta","id":"t1","delta":"Hello, wor"}"#.utf8) + [0x0A, 0x0A]

var sink = 0
switch arguments[1] {
case "parser":
    for _ in 0..<iterations { sink &+= ((try? ToolCallParser.parse(block)) ?? []).count }
case "detector":
    for _ in 0..<iterations {
        var detector = ToolCallDetector()
        for delta in deltas { sink &+= detector.feed(delta).count }
        sink &+= detector.finish().count
    }
case "detector-plain":
    for _ in 0..<iterations {
        var detector = ToolCallDetector()
        for _ in 0..<200 { sink &+= detector.feed("plain text, ").count }
    }
case "site-frame":
    var reader = SSEReader()
    var translator = SiteStreamTranslator(upstreamStatus: 200)
    _ = translator.consume(payload: #"{"type":"start","messageMetadata":{"sessionId":"s","exchangeId":"e"}}"#)
    for _ in 0..<iterations {
        for event in (try? reader.feed(frame)) ?? [] { sink &+= translator.consume(event).count }
    }
case "openai-encode", "anthropic-encode":
    var encoder = EncoderProbe(arguments[1] == "openai-encode" ? .openAI : .anthropic)
    for _ in 0..<iterations { sink &+= encoder.encode(text: "Hello, ") }
default:
    print("unknown workload \(arguments[1])")
    exit(2)
}
print(sink)
