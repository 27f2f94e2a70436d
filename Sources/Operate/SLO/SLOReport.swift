import JSONCore

/// The four KPIs of the metrics contract, per client, from access entries. Client aborts are
/// excluded from every denominator, exactly as the Prometheus recording rules do:
///
/// - request success   = ok / not client_abort                                   (≥ target)
/// - tool-loop success = tools ∧ ok / tools ∧ not client_abort                   (≥ target)
/// - cut-stream rate   = cut / stream ∧ not client_abort                         (≤ target)
/// - attribution       = 1 − unknown / not (ok ∨ client_abort); 1 without failures (≥ target)
public struct SLOReport: Sendable {
    public struct Targets: Sendable, Equatable {
        public var requestSuccess = 0.99
        public var toolLoopSuccess = 0.97
        public var cutStreamRate = 0.005
        public var attribution = 0.99
        public init() {}
    }

    /// The counts one row's KPIs are made of.
    public struct Counts: Sendable, Equatable {
        public var requests = 0
        public var aborts = 0
        public var ok = 0
        public var unknown = 0
        public var toolRequests = 0
        public var toolAborts = 0
        public var toolOK = 0
        public var streams = 0
        public var streamAborts = 0
        public var cuts = 0

        public init() {}

        mutating func add(_ e: AccessEntry) {
            let abort = e.endReason == "client_abort"
            requests += 1
            if abort { aborts += 1 }
            if e.endReason == "ok" { ok += 1 }
            if e.endReason == "unknown" { unknown += 1 }
            if e.tools {
                toolRequests += 1
                if abort { toolAborts += 1 }
                if e.endReason == "ok" { toolOK += 1 }
            }
            if e.stream {
                streams += 1
                if abort { streamAborts += 1 }
                if e.cut, !abort { cuts += 1 }
            }
        }

        /// nil when there is nothing to divide by (no such requests: not a miss).
        public var requestSuccess: Double? { ratio(ok, requests - aborts) }
        public var toolLoopSuccess: Double? { ratio(toolOK, toolRequests - toolAborts) }
        public var cutStreamRate: Double? { ratio(cuts, streams - streamAborts) }
        public var failures: Int { requests - aborts - ok }
        public var attribution: Double? {
            guard requests - aborts > 0 else { return nil }
            return failures == 0 ? 1 : 1 - Double(unknown) / Double(failures)
        }

        private func ratio(_ a: Int, _ b: Int) -> Double? { b > 0 ? Double(a) / Double(b) : nil }
    }

    public enum KPI: String, CaseIterable, Sendable {
        case requestSuccess = "request_success"
        case toolLoopSuccess = "tool_loop_success"
        case cutStreamRate = "cut_stream_rate"
        case attribution

        public var title: String {
            switch self {
            case .requestSuccess: "request success"
            case .toolLoopSuccess: "tool-loop success"
            case .cutStreamRate: "cut-stream rate"
            case .attribution: "attribution"
            }
        }

        /// The cut-stream rate is a ceiling; the others are floors.
        public var isCeiling: Bool { self == .cutStreamRate }

        public func value(_ c: Counts) -> Double? {
            switch self {
            case .requestSuccess: c.requestSuccess
            case .toolLoopSuccess: c.toolLoopSuccess
            case .cutStreamRate: c.cutStreamRate
            case .attribution: c.attribution
            }
        }

        public func target(_ t: Targets) -> Double {
            switch self {
            case .requestSuccess: t.requestSuccess
            case .toolLoopSuccess: t.toolLoopSuccess
            case .cutStreamRate: t.cutStreamRate
            case .attribution: t.attribution
            }
        }

        /// nil: no data. Compared on the exact ratio, never on a rounded figure.
        public func met(_ c: Counts, _ t: Targets) -> Bool? {
            guard let v = value(c) else { return nil }
            return isCeiling ? v <= target(t) : v >= target(t)
        }
    }

    public struct Row: Sendable, Equatable {
        public var client: String
        public var counts: Counts
        /// Rows with fewer requests (client aborts excluded) than `minRequests` are shown but not judged.
        public var judged: Bool
    }

    /// The clients in the contract's order; any other value found in the logs follows, sorted.
    public static let knownClients = ["opencode", "claude-code", "new-api", "openai-sdk", "other"]

    public let rows: [Row]
    public let total: Row
    public let targets: Targets

    public init(entries: some Sequence<AccessEntry>, targets: Targets = Targets(), minRequests: Int = 1) {
        var byClient: [String: Counts] = [:]
        var all = Counts()
        for e in entries {
            byClient[e.client, default: Counts()].add(e)
            all.add(e)
        }
        let order = Self.knownClients.filter { byClient[$0] != nil } + byClient.keys.filter { !Self.knownClients.contains($0) }.sorted()
        rows = order.map { Row(client: $0, counts: byClient[$0]!, judged: byClient[$0]!.requests - byClient[$0]!.aborts >= minRequests) }
        total = Row(client: "all", counts: all, judged: all.requests - all.aborts >= minRequests)
        self.targets = targets
    }

    /// Every KPI of a judged row (the total included) that misses its target.
    public var misses: [(client: String, kpi: KPI, value: Double)] {
        var out: [(String, KPI, Double)] = []
        for row in rows + [total] where row.judged {
            for kpi in KPI.allCases where kpi.met(row.counts, targets) == false {
                out.append((row.client, kpi, kpi.value(row.counts)!))
            }
        }
        return out
    }

    public var passed: Bool { misses.isEmpty }
}
