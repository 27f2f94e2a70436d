import Foundation
import JSONCore

/// What the gate found: per pack, the checks it made, in order. A check without a verdict was
/// not visible from here (no `--access-log` / `--metrics-url`) or not reached.
public struct GateReport: Sendable {
    public struct Check: Sendable {
        public var name: String
        /// nil: skipped (not visible, or an earlier check of the pack failed).
        public var passed: Bool?
        public var detail: String
    }

    public struct Pack: Sendable {
        public var id: String
        public var title: String
        public var checks: [Check] = []
        public var requestIDs: [String] = []
        public var passed: Bool { !checks.contains { $0.passed == false } }
        public var firstFailure: Check? { checks.first { $0.passed == false } }
    }

    public var baseURL: String
    public var startedAt: Int64
    public var finishedAt: Int64 = 0
    public var packs: [Pack] = []

    public var passed: Bool { !packs.isEmpty && packs.allSatisfy(\.passed) }
    public var failedPacks: [String] { packs.filter { !$0.passed }.map(\.id) }

    public func summary() -> String {
        var out = "mix2api gate against \(baseURL)\n"
        for pack in packs {
            out += "pack \(pack.id) (\(pack.title)): \(pack.passed ? "PASS" : "FAIL")\n"
            for c in pack.checks {
                let mark = c.passed.map { $0 ? "ok  " : "FAIL" } ?? "skip"
                out += "  [\(mark)] \(c.name)\(c.detail.isEmpty ? "" : ": \(c.detail)")\n"
            }
            if !pack.requestIDs.isEmpty { out += "  request ids: \(pack.requestIDs.joined(separator: ", "))\n" }
        }
        out += passed ? "gate: PASS\n" : "gate: FAIL (pack \(failedPacks.joined(separator: ", ")))\n"
        return out
    }

    public func json() -> String {
        func pack(_ p: Pack) -> JSONValue {
            .object(JSONObject([
                ("id", .string(p.id)), ("title", .string(p.title)), ("passed", .bool(p.passed)),
                ("request_ids", .array(p.requestIDs.map { .string($0) })),
                ("checks", .array(p.checks.map { c in
                    .object(JSONObject([("name", .string(c.name)), ("result", .string(c.passed.map { $0 ? "pass" : "fail" } ?? "skip")), ("detail", .string(c.detail))]))
                })),
            ]))
        }
        let doc: JSONValue = .object(JSONObject([
            ("base_url", .string(baseURL)), ("started_at", .string(Timestamp.format(startedAt))), ("finished_at", .string(Timestamp.format(finishedAt))),
            ("passed", .bool(passed)), ("failed_packs", .array(failedPacks.map { .string($0) })), ("packs", .array(packs.map(pack))),
        ]))
        var out: [UInt8] = []
        JSONWriter.append(doc, to: &out)
        return String(decoding: out, as: UTF8.self) + "\n"
    }
}
