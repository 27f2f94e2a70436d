import ArgumentParser
import Foundation
import Operate

/// `mix2api gate`: the release gate's regression packs against a live deployment.
struct GateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Run regression packs A/B/C against a live OpenAI-compatible deployment (stable or canary).",
        discussion: """
            A: a long streamed answer without tools. B: a streamed answer with one tool: the call, the result \
            sent back, the final answer, ids aligned. C: a client abort and a client timeout, not counted as \
            failures, resources released, the server still answering. Every answer is checked against the \
            byte contract. Exit status: 0 when every pack passes, 1 when one fails, 2 on bad arguments.
            """)

    @Option(help: "The deployment's base URL (e.g. http://127.0.0.1:3001 or https://new-api.example/v1).") var baseURL: String
    @Option(help: "The API key, sent as Authorization: Bearer (never printed).") var key: String
    @Option(help: "The model for every pack (default: the mock driver's mock-long, mock-tool, mock-stall).") var model: String?
    @Option(help: "Pack A's model (overrides --model).") var modelA: String?
    @Option(help: "Pack B's model (overrides --model).") var modelB: String?
    @Option(help: "Pack C's model (overrides --model).") var modelC: String?
    @Option(help: "mix2api's /metrics URL: end_reason, tool counters and streams in flight are checked there.") var metricsURL: String?
    @Option(help: "mix2api's JSON log file: the gate's requests are looked up there by request id.") var accessLog: String?
    @Flag(help: "new-api is in front: accept its request id headers instead of mix2api's pair.") var viaNewAPI = false
    @Option(help: "Write the JSON report here.") var report: String?
    @Option(help: "Longest wait for one answer, in seconds.") var timeout = 120
    @Option(help: "Pack C: how long the client waits before giving up on a stream, in ms.") var clientTimeoutMs = 1500

    func validate() throws {
        for (name, url) in [("--base-url", baseURL), ("--metrics-url", metricsURL ?? "http://x")] {
            guard let u = URL(string: url), let scheme = u.scheme?.lowercased(), ["http", "https"].contains(scheme), u.host != nil else {
                throw ValidationError("\(name): expected an http(s) URL, got \"\(url)\"")
            }
        }
        if key.isEmpty { throw ValidationError("--key: must not be empty") }
        if timeout < 1 { throw ValidationError("--timeout: must be at least 1 second, got \(timeout)") }
        if clientTimeoutMs < 1 { throw ValidationError("--client-timeout-ms: must be at least 1, got \(clientTimeoutMs)") }
        if let accessLog, !FileManager.default.isReadableFile(atPath: accessLog) { throw ValidationError("--access-log: cannot read \"\(accessLog)\"") }
    }

    func run() async throws {
        var options = Gate.Options(baseURL: baseURL, key: key)
        if let model { options.longModel = model; options.toolModel = model; options.abortModel = model }
        if let modelA { options.longModel = modelA }
        if let modelB { options.toolModel = modelB }
        if let modelC { options.abortModel = modelC }
        options.metricsURL = metricsURL
        options.accessLogPath = accessLog
        options.viaGateway = viaNewAPI
        options.timeoutSeconds = timeout
        options.clientTimeoutMs = clientTimeoutMs
        let result = await Gate.run(options)
        print(result.summary(), terminator: "")
        if let report {
            do { try Data(result.json().utf8).write(to: URL(fileURLWithPath: report)) } catch {
                FileHandle.standardError.write(Data("mix2api gate: --report: cannot write \"\(report)\": \(error.localizedDescription)\n".utf8))
                throw ExitCode(2)
            }
        }
        if !result.passed { throw ExitCode(1) }
    }
}
