import Logging

/// The one access-log line per request, with the SLO dimensions
/// client × stream × tools_present × end_reason × http_status × upstream_status, and timings.
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
    var endReason: EndReason = .ok
    var httpStatus = 200
    var upstreamStatus = 0
    var ttfbMs: Double?
    var durationMs: Double = 0
    var chunks = 0
    var errorMessage: String?

    func write(to logger: Logger) {
        var m: Logger.Metadata = [
            "request_id": .string(requestID),
            "route": .string(route),
            "client": .string(client.rawValue),
            "model": .string(model),
            "driver": .string(driver),
            "stream": .stringConvertible(stream),
            "tools_present": .stringConvertible(toolsPresent),
            "tool_calls": .stringConvertible(toolCalls),
            "tool_results": .stringConvertible(toolResults),
            "end_reason": .string(endReason.rawValue),
            "http_status": .stringConvertible(httpStatus),
            "upstream_status": .stringConvertible(upstreamStatus),
            "duration_ms": .stringConvertible((durationMs * 10).rounded() / 10),
            "chunks": .stringConvertible(chunks),
        ]
        if !toolCallIDs.isEmpty { m["tool_call_ids"] = .array(toolCallIDs.map { .string($0) }) }
        if !toolResultIDs.isEmpty { m["tool_result_ids"] = .array(toolResultIDs.map { .string($0) }) }
        if let ttfbMs { m["ttfb_ms"] = .stringConvertible((ttfbMs * 10).rounded() / 10) }
        if let errorMessage { m["error"] = .string(errorMessage) }
        logger.info("access", metadata: m)
    }
}
