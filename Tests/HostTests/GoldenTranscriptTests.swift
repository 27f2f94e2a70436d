import Foundation
import Testing
@testable import Host

/// Driver events → exact OpenAI bytes, for every mock scenario, stream and non-stream. The files
/// under Fixtures/golden are the contract; regenerate deliberately with UPDATE_GOLDENS=1.
@Suite struct GoldenTranscriptTests {
    static let scenarios = [
        "mock-short", "mock-usage", "mock-long", "mock-chars", "mock-reasoning", "mock-length", "mock-tool", "mock-tool-json",
        "mock-tool-parallel", "mock-error-early", "mock-error-mid", "mock-rate-limited", "mock-auth-error", "mock-stall",
        "mock-slow-first", "mock-echo",
    ]
    static let config = #"{"long_deltas": 200, "stall_ms": 30, "slow_first_ms": 10}"#

    @Test(arguments: scenarios)
    func scenarioMatchesGolden(_ scenario: String) async throws {
        let driver = try DriverHarness.load(BuildProducts.mockDriver, config: Self.config)
        let tools = scenario.hasPrefix("mock-tool")
        let events = try await DriverHarness.run(driver, request: DriverHarness.request(model: scenario, tools: tools))
        let prompt = 42  // fixed, so goldens do not depend on the estimator

        // Streamed: what a client reads once the headers are out.
        var encoder = OpenAIStreamEncoder(id: "chatcmpl-golden", created: 1_700_000_000, model: scenario)
        var sse: [UInt8] = []
        var usage: Int?
        for event in events {
            switch event {
            case .usage(_, let c): usage = c
            case .finish(let reason): encoder.finish(reason, promptTokens: prompt, completionTokens: usage, into: &sse)
            case .error(let failure): encoder.fail(ClientError(failure), into: &sse)
            default: encoder.encode(event, into: &sse)
            }
        }
        try Golden.check(sse, name: "\(scenario).openai.sse")

        // Non-streamed: the JSON body, or the error envelope with its status.
        var collector = OpenAIResponseEncoder()
        var body: [UInt8] = []
        for event in events {
            switch event {
            case .finish(let reason):
                body = collector.body(id: "chatcmpl-golden", created: 1_700_000_000, model: scenario, finish: reason, promptTokens: prompt, completionTokens: usage, legacyFunctions: false)
            case .error(let failure):
                let error = ClientError(failure)
                body = Array("HTTP \(error.status)\n".utf8) + error.openAIBody
            default: collector.add(event)
            }
        }
        try Golden.check(body, name: "\(scenario).openai.json")
    }
}

enum Golden {
    struct Mismatch: Error, CustomStringConvertible {
        let description: String
    }

    static func check(_ actual: [UInt8], name: String) throws {
        let url = BuildProducts.fixtures.appendingPathComponent("golden").appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["UPDATE_GOLDENS"] == "1" {
            try Data(actual).write(to: url)
            return
        }
        guard let expected = FileManager.default.contents(atPath: url.path) else {
            throw Mismatch(description: "missing golden \(name): run the tests once with UPDATE_GOLDENS=1 and review the file")
        }
        if Array(expected) != actual {
            let a = String(decoding: actual, as: UTF8.self)
            let e = String(decoding: expected, as: UTF8.self)
            let firstDiff = zip(a, e).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, e.count)
            throw Mismatch(description: "\(name) differs from its golden at character \(firstDiff):\nexpected …\(e.dropFirst(max(0, firstDiff - 80)).prefix(200))\nactual   …\(a.dropFirst(max(0, firstDiff - 80)).prefix(200))")
        }
    }
}
