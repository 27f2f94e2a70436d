import Foundation
import Testing
@testable import Host

/// Mutation fuzzing of the tool stage, seeded from the corpus: random edits (bytes dropped,
/// duplicated, swapped, markup fragments inserted) and random delta boundaries. Properties: no
/// crash or hang, never markup as text, at most one finish, calls only for declared tools with
/// arguments that are a JSON object, and the same result for whole and split input.
/// Deterministic (seeded) so a failure reproduces; the run count is bounded for the test suite.
@Suite struct ToolDetectorFuzzTests {
    static let fragments = ["<tool_calls>", "</tool_calls>", "<invoke name=\"Bash\">", "</invoke>", "<parameter name=\"command\">",
                            "</parameter>", "<![CDATA[", "]]>", "```", "`", "\n", "<", ">", "\"", "{", "}", "<tool_call", "</tool_"]

    struct Outcome: Equatable {
        var text = ""
        var calls: [String] = []
        var finishes = 0
        var verdict = ""
    }

    static func run(_ deltas: [String]) -> Outcome {
        var request = CanonicalRequest(requestID: "f", model: "m", stream: true, messages: [.init(role: .user, content: "go")])
        request.tools = ToolCallCorpusTests.tools
        var stage = ToolStage(request: request, nativeTools: false)
        var out: [DriverEvent] = []
        var outcome = Outcome()
        loop: for event in deltas.map({ DriverEvent.text($0) }) + [.finish(.stop)] {
            switch stage.process(event, into: &out) {
            case .proceed: continue
            case .stopUpstream:
                outcome.verdict = "stop-upstream"
                break loop
            case .retry(let why):
                outcome.verdict = "retry " + why
                break loop
            }
        }
        var args: [Int: String] = [:]
        var names: [Int: String] = [:]
        for e in out {
            switch e {
            case .text(let t): outcome.text += t
            case .toolCallStart(let i, _, let name): names[i] = name
            case .toolCallArguments(let i, let a): args[i, default: ""] += a
            case .toolCallEnd(let i): outcome.calls.append("\(names[i] ?? "?") \(args[i] ?? "")")
            case .finish: outcome.finishes += 1
            default: break
            }
        }
        return outcome
    }

    static func mutate(_ s: String, _ rng: inout SeededGenerator) -> String {
        var chars = Array(s)
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let at = chars.isEmpty ? 0 : Int.random(in: 0..<chars.count, using: &rng)
            switch Int.random(in: 0..<5, using: &rng) {
            case 0 where !chars.isEmpty: chars.remove(at: at)
            case 1 where !chars.isEmpty: chars.insert(chars[at], at: at)
            case 2: chars.insert(contentsOf: Array(fragments.randomElement(using: &rng)!), at: at)
            case 3 where chars.count > 1: chars.swapAt(at, Int.random(in: 0..<chars.count, using: &rng))
            default: chars.insert(Character(Unicode.Scalar(UInt8.random(in: 0x20...0x7e, using: &rng))), at: at)
            }
        }
        return String(chars)
    }

    @Test func mutatedOutputsKeepTheInvariants() {
        var rng = SeededGenerator(seed: 0x5EED_7001)
        let seeds = ToolCallCorpusTests.cases.map(\.output)
        let declared = Set(ToolCallCorpusTests.tools.map(\.name))
        for iteration in 0..<4000 {
            let input = Self.mutate(seeds[iteration % seeds.count], &rng)
            let whole = Self.run([input])
            // Markup may reach the client as text only where the model put it in code.
            if whole.text.contains("<invoke") {
                #expect(input.contains("`"), "markup leaked as text for \(String(reflecting: input))")
            }
            #expect(whole.finishes <= 1)
            for call in whole.calls {
                let name = String(call.prefix { $0 != " " })
                #expect(declared.contains(name), "a call to an undeclared tool from \(String(reflecting: input))")
                let json = call.dropFirst(name.count + 1)
                #expect((try? JSONParser.parse(String(json)))?.objectValue != nil, "arguments not a JSON object: \(call)")
            }
            // Random delta boundaries must not change anything.
            var deltas: [String] = []
            var rest = Substring(input)
            while !rest.isEmpty {
                let n = Int.random(in: 1...9, using: &rng)
                deltas.append(String(rest.prefix(n)))
                rest = rest.dropFirst(n)
            }
            let split = Self.run(deltas)
            #expect(split == whole, "split input changed the result for \(String(reflecting: input))")
            if split != whole { return }
        }
    }
}
