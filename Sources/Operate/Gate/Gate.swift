import Foundation
import JSONCore

/// `mix2api gate`: regression packs A/B/C against a live OpenAI-compatible deployment (a mix2api
/// instance, stable or canary, or new-api in front of one), each answer checked against the byte
/// contract. The report says which pack failed and why; the exit status is for CI/CD.
public enum Gate {
    public struct Options: Sendable {
        public var baseURL: String
        public var key: String
        /// Pack A's model (a long answer), pack B's (one tool round trip), pack C's (aborted).
        public var longModel = "mock-long"
        public var toolModel = "mock-tool"
        public var abortModel = "mock-stall"
        /// new-api is in front: its own request id replaces mix2api's in the response headers.
        public var viaGateway = false
        public var metricsURL: String?
        public var accessLogPath: String?
        public var timeoutSeconds = 120
        /// Pack C's client timeout: how long the client waits before giving up on a stream.
        public var clientTimeoutMs = 1500

        public init(baseURL: String, key: String) {
            self.baseURL = baseURL
            self.key = key
        }
    }

    public static func run(_ options: Options) async -> GateReport {
        var report = GateReport(baseURL: options.baseURL, startedAt: nowMs())
        let packs = RegressionPacks(options: options)
        report.packs.append(await packs.longStream())
        report.packs.append(await packs.toolRoundTrip())
        report.packs.append(await packs.abortAndTimeout())
        report.finishedAt = nowMs()
        return report
    }

    static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
