import Logging

/// The one access-log line per request, with the SLO dimensions
/// client × stream × tools × end_reason × http_status × upstream_status, and timings. Writing it
/// also records the request's metrics (`RequestOutcome`), so every route that writes its record
/// is counted the same way.
struct AccessRecord {
    var requestID: String
    var route: String
    var client: ClientKind = .other
    var model: String = ""
    var driver: String = ""
    var stream = false
    var toolsPresent = false
    var toolResults = 0
    var toolCalls = 0
    /// Ids of the calls this answer emitted and of the results this request carried: a call is
    /// closed when a later request of the conversation carries its result and ends ok.
    var toolCallIDs: [String] = []
    var toolResultIDs: [String] = []
    /// Routes set it on every path; a record written without it counts as `unknown`.
    var endReason: EndReason = .unknown
    var httpStatus = 200
    var upstreamStatus = 0
    /// First-token phases, ms since the request arrived: the driver accepted the stream, it
    /// reported the upstream's status, it delivered the first delta (text, reasoning or tool
    /// call), and the first body bytes went to the client (`ttfbMs`). The gaps say whether a slow
    /// first token was the host, the upstream, or the hop back.
    var driverStartMs: Double?
    var upstreamHeadMs: Double?
    var firstDeltaMs: Double?
    var ttfbMs: Double?
    var durationMs: Double = 0
    var chunks = 0
    var errorMessage: String?
    /// The 200 and the SSE headers went out: from here on a failure can only end the stream.
    var sseStarted = false
    /// The stream's terminal signal (finish + `[DONE]`, an error chunk + `[DONE]`, or
    /// `message_stop` / `event: error`) reached the socket.
    var terminalSent = false

    /// The SLO dimension `tools`: the request declared tools or carried tool results.
    var tools: Bool { toolsPresent || toolResults > 0 }

    /// A started stream that ended without its terminal signal (not counting a client that left).
    var unterminated: Bool { stream && sseStarted && !terminalSent && endReason != .clientAbort }

    /// A started stream whose client saw part of an answer, then an error chunk and the end.
    var streamCut: Bool { stream && sseStarted && terminalSent && endReason != .ok && endReason != .clientAbort }

    /// The access line's `cut`: counted in stream_cuts or streams_unterminated (never both).
    var cut: Bool { streamCut || unterminated }

    func write(to logger: Logger, metrics: HostMetrics = .shared) {
        var m: Logger.Metadata = [
            "request_id": .string(requestID),
            "route": .string(route),
            "client": .string(client.rawValue),
            "model": .string(model),
            "driver": .string(driver),
            "stream": .stringConvertible(stream),
            "tools": .stringConvertible(tools),
            "tools_present": .stringConvertible(toolsPresent),
            "tool_calls": .stringConvertible(toolCalls),
            "tool_results": .stringConvertible(toolResults),
            "end_reason": .string(endReason.rawValue),
            "http_status": .stringConvertible(httpStatus),
            "upstream_status": .stringConvertible(upstreamStatus),
            "duration_ms": Self.ms(durationMs),
            "chunks": .stringConvertible(chunks),
            "cut": .stringConvertible(cut),
        ]
        if !toolCallIDs.isEmpty { m["tool_call_ids"] = .array(toolCallIDs.map { .string($0) }) }
        if !toolResultIDs.isEmpty { m["tool_result_ids"] = .array(toolResultIDs.map { .string($0) }) }
        if let driverStartMs { m["driver_start_ms"] = Self.ms(driverStartMs) }
        if let upstreamHeadMs { m["upstream_head_ms"] = Self.ms(upstreamHeadMs) }
        if let firstDeltaMs { m["first_delta_ms"] = Self.ms(firstDeltaMs) }
        if let ttfbMs { m["ttfb_ms"] = Self.ms(ttfbMs) }
        if let errorMessage { m["error"] = .string(errorMessage) }
        logger.info("access", metadata: m)
        RequestOutcome.record(self, into: metrics)
    }

    /// Times to 10 µs: the phases of a first token on loopback are fractions of a millisecond.
    private static func ms(_ value: Double) -> Logger.MetadataValue { .stringConvertible((value * 100).rounded() / 100) }
}
