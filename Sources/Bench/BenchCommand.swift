import ArgumentParser
import BenchStamp
import Foundation
import NIOCore
import NIOPosix

/// `mix2api-bench`: an SSE load generator for any OpenAI-compatible chat completions URL.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mix2api-bench",
        abstract: "Open- or closed-loop load on an OpenAI-compatible /chat/completions URL, with per-chunk timing.",
        discussion: """
            Records per request the time to the response headers, to the first content delta (TTFT), \
            every gap between content chunks, the whole answer, and errors (connect, HTTP status, \
            error chunk, stream cut before [DONE], content or chunk count not intact). With --pace the \
            upstream (site-sim or the mock driver's mock-paced model) stamps each chunk with its send \
            time and sequence number: the report's chunk_delay is receive time minus send time, and \
            the TTFT is split at the first chunk's stamp into first_sent (request start to that \
            stamp) and first_delay (that chunk's way back).
            """)

    @Option(help: "Target: a chat completions URL, or a base URL ending in /v1.") var url: String
    @Option(help: "Model to ask for.") var model = "mock-short"
    @Option(help: "Bearer key to send (none by default).") var apiKey: String?
    @Flag(inversion: .prefixedNo, help: "Ask for a streamed (SSE) answer.") var stream = true
    @Option(help: "Closed loop: requests kept in flight (each worker sends back to back).") var concurrency = 10
    @Option(help: "Closed loop: spread the workers' first requests over this many seconds.") var ramp: Double = 0
    @Option(help: "Open loop: arrivals per second (replaces the closed loop).") var rate: Double?
    @Option(help: "Open loop: most requests in flight; arrivals beyond are dropped and counted.") var maxInFlight = 20_000
    @Option(help: "Seconds during which requests start (after the warm-up).") var duration: Double = 10
    @Option(help: "Seconds of warm-up requests, sent but not measured.") var warmup: Double = 1
    @Option(help: "Event loop threads of the load generator.") var threads = 1
    @Option(help: "Longest a request may take, in ms.") var timeoutMs = 120_000
    @Option(help: "The user message.") var prompt = "Say something."
    @Option(help: "Ask for a timed answer: ttft_ms=N,chunks=N,gap_ms=N,chunk_bytes=N (checked chunk by chunk).") var pace: String?
    @Option(help: "The exact answer text expected (checked on every answer).") var expectContent: String?
    @Flag(help: "Offer one function tool in every request, as IDE agents do (turns on a gateway's tool-call detection).") var withTool = false
    @Option(help: "Closed loop: stop after this many requests in all (for a fixed amount of work, e.g. under a profiler).") var requests: Int?
    @Option(help: "Name of this run in the report.") var label = "run"
    @Option(help: "Write the JSON report to this file.") var json: String?
    @Option(help: "What to print: table, json or none.") var format = "table"

    func validate() throws {
        guard concurrency > 0 else { throw ValidationError("--concurrency must be positive") }
        guard duration > 0 else { throw ValidationError("--duration must be positive") }
        guard warmup >= 0, ramp >= 0 else { throw ValidationError("--warmup and --ramp must not be negative") }
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        if let requests, requests <= 0 { throw ValidationError("--requests must be positive") }
        if requests != nil, rate != nil { throw ValidationError("--requests applies to the closed loop only (not with --rate)") }
        guard ["table", "json", "none"].contains(format) else { throw ValidationError("--format must be table, json or none") }
    }

    func run() async throws {
        let target = try TargetURL(url)
        var paceSpec: PaceSpec?
        if let pace {
            do { paceSpec = try PaceSpec.find(in: "\(PaceSpec.markerOpen)\(pace)]]") } catch { throw ValidationError("--pace: \(error)") }
        }
        let content = prompt + (paceSpec.map { " " + $0.marker } ?? "")
        var bodyObject: [String: Any] = ["model": model, "stream": stream, "messages": [["role": "user", "content": content]]]
        if withTool {
            let parameters: [String: Any] = [
                "type": "object", "required": ["city"],
                "properties": ["city": ["type": "string", "description": "City name"], "unit": ["type": "string", "enum": ["c", "f"]]],
            ]
            bodyObject["tools"] = [["type": "function", "function": ["name": "get_weather", "description": "Current weather of a city", "parameters": parameters]]]
        }
        let bodyData = try JSONSerialization.data(withJSONObject: bodyObject, options: [.sortedKeys])
        let plan = RequestPlan(
            target: target, body: ByteBuffer(bytes: bodyData), apiKey: apiKey, stream: stream, pace: paceSpec,
            expectedContent: expectContent.map { Array($0.utf8) }, timeoutMs: timeoutMs)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let now = Exchange.nowNs()
        let clock = RunClock(startNs: now, measureFromNs: now + UInt64(warmup * 1e9), endNs: now + UInt64((warmup + duration) * 1e9))
        let loops = (0..<threads).map { _ in group.next() }
        let budget = requests.map { RequestBudget(total: $0) }
        let loads = loops.map { LoopLoad(loop: $0, plan: plan, clock: clock, budget: budget) }
        let shape: LoadShape
        if let rate {
            shape = .open(ratePerSecond: rate, maxInFlight: maxInFlight)
            for load in loads { load.startOpen(ratePerSecond: rate / Double(threads), maxInFlight: max(1, maxInFlight / threads)) }
        } else {
            shape = .closed(concurrency: concurrency, rampSeconds: ramp)
            var delays = Array(repeating: [UInt64](), count: threads)
            for worker in 0..<concurrency {
                delays[worker % threads].append(UInt64(ramp * 1e9 * Double(worker) / Double(concurrency)))
            }
            for (load, d) in zip(loads, delays) { load.startClosed(delaysNs: d) }
        }
        let merged = RunStats()
        for load in loads { merged.merge(try await load.finished.get()) }
        try await group.shutdownGracefully()

        let report = Report(label: label, target: target.description, shape: shape, stream: stream, pace: pace, windowSeconds: clock.windowSeconds, stats: merged)
        if let json { try report.jsonText().write(toFile: json, atomically: true, encoding: .utf8) }
        switch format {
        case "json": print(report.jsonText())
        case "table": print(report.table())
        default: break
        }
    }
}
