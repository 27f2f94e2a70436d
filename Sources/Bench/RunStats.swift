import Histogram

/// What one event loop measured. Confined to that loop while the load runs; merged at the end.
final class RunStats: @unchecked Sendable {
    /// Microsecond histograms, 3 significant digits, up to 10 minutes.
    static func histogram() -> Histogram<UInt64> {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    }

    /// Request start (or, open loop, its scheduled start) to the response head.
    var headers = histogram()
    /// Request start to the first non-empty content delta.
    var ttft = histogram()
    /// Between two consecutive content-bearing chunks of one answer.
    var gap = histogram()
    /// Request start to the end of the answer (`[DONE]` and the end of the body).
    var total = histogram()
    /// Per stamped chunk: receive time minus the upstream's send stamp (wall clock, µs).
    var chunkDelay = histogram()
    /// The first token split where the upstream stamped it (paced answers): request start to the
    /// first chunk's send stamp (the way in, the upstream's schedule and its lateness) …
    var firstSent = histogram()
    /// … and that chunk's way back (its chunk delay). `ttft` ≈ `firstSent` + `firstDelay`.
    var firstDelay = histogram()

    var started = 0
    var ok = 0
    /// Failed requests by kind (connect, http_<status>, cut, error_chunk, integrity, chunk_count, timeout).
    var errors: [String: Int] = [:]
    /// The first few integrity problems, for the report.
    var problems: [String] = []
    var contentChunks = 0
    var contentBytes = 0
    /// Every answer that ended well and every content chunk, warm-up included: what a gateway's
    /// CPU time around the whole run is divided by.
    var okAll = 0
    var contentChunksAll = 0
    /// Open loop: arrivals dropped because `--max-in-flight` requests were already running.
    var dropped = 0

    func fail(_ kind: String, _ detail: String? = nil) {
        errors[kind, default: 0] += 1
        if let detail, problems.count < 5 { problems.append("\(kind): \(detail)") }
    }

    func merge(_ other: RunStats) {
        headers.add(other.headers)
        ttft.add(other.ttft)
        gap.add(other.gap)
        total.add(other.total)
        chunkDelay.add(other.chunkDelay)
        firstSent.add(other.firstSent)
        firstDelay.add(other.firstDelay)
        started += other.started
        ok += other.ok
        for (k, v) in other.errors { errors[k, default: 0] += v }
        problems += other.problems.prefix(max(0, 5 - problems.count))
        contentChunks += other.contentChunks
        contentBytes += other.contentBytes
        dropped += other.dropped
        okAll += other.okAll
        contentChunksAll += other.contentChunksAll
    }

    var errorCount: Int { errors.values.reduce(0, +) }
}

extension Histogram<UInt64> {
    mutating func recordMicros(_ value: Int64) {
        _ = record(UInt64(Swift.min(Swift.max(value, 0), 600_000_000)))
    }
}
