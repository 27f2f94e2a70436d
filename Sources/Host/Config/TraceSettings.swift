import Foundation

/// The opt-in sampled trace capture: MIX2API_TRACE_SAMPLE_PERCENT of the requests have their
/// request and response bodies (redacted) written under MIX2API_TRACE_DIR, kept for one day.
public struct TraceSettings: Sendable {
    /// 0 (the default) turns capture off.
    public var samplePercent: Double = 0
    public var directory: String?
    /// Trace files older than this are deleted (the "at most one day").
    public static let retentionSeconds: Double = 24 * 3600
    /// Each captured body is cut here, so one long answer cannot fill the disk.
    public static let maxBodyBytes = 1 << 20

    public var enabled: Bool { samplePercent > 0 && directory != nil }

    static func load(from env: [String: String]) throws(HostConfig.Invalid) -> TraceSettings {
        var t = TraceSettings()
        if let raw = env["MIX2API_TRACE_SAMPLE_PERCENT"], !raw.isEmpty {
            guard let v = Double(raw.trimmingCharacters(in: .whitespaces)), v.isFinite, (0...100).contains(v) else {
                throw HostConfig.Invalid(setting: "MIX2API_TRACE_SAMPLE_PERCENT", problem: "must be a number from 0 to 100, got \"\(raw)\"")
            }
            t.samplePercent = v
        }
        if let v = env["MIX2API_TRACE_DIR"], !v.isEmpty { t.directory = v }
        if t.samplePercent > 0, t.directory == nil {
            throw HostConfig.Invalid(setting: "MIX2API_TRACE_DIR", problem: "required when MIX2API_TRACE_SAMPLE_PERCENT is above 0")
        }
        return t
    }
}
