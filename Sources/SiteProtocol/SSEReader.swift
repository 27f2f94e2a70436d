/// One server-sent event, as the WHATWG event-stream rules dispatch it.
public struct SSEEvent: Sendable, Equatable {
    /// The `event:` field of this event, or nil when it had none (the browser calls that "message").
    public var event: String?
    /// The `data:` lines of this event joined with "\n".
    public var data: String
    /// The last `id:` seen in the stream so far (it persists across events, as in a browser).
    public var id: String?

    public init(event: String? = nil, data: String, id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }
}

public enum SSEError: Error, Equatable, CustomStringConvertible {
    /// A line grew beyond the reader's limit before its line end arrived.
    case lineTooLong(Int)
    /// The `data:` lines of one event together grew beyond the reader's limit.
    case eventTooLarge(Int)

    public var description: String {
        switch self {
        case .lineTooLong(let limit): "the site sent an event-stream line longer than \(limit) bytes"
        case .eventTooLarge(let limit): "the site sent an event larger than \(limit) bytes"
        }
    }
}

/// An incremental event-stream reader. Bytes arrive in whatever pieces the network delivers, so
/// everything that spans a piece boundary (a line, a CR LF pair, a UTF-8 sequence, a BOM) is kept
/// as raw bytes until its line is complete; text is decoded only per whole line. Memory is bounded
/// by `maxLineBytes` (one partial line) plus `maxEventBytes` (one event's data): a site that never
/// sends a line end cannot make the driver grow without limit.
public struct SSEReader: Sendable {
    public let maxLineBytes: Int
    public let maxEventBytes: Int
    /// Comment lines (`:` keep-alives) seen so far: they carry nothing, but their count shows that
    /// the site is alive during long silences.
    public private(set) var commentsSeen = 0

    private var line: [UInt8] = []
    /// The previous piece ended in CR: an LF at the start of the next piece belongs to that line end.
    private var lastWasCR = false
    /// The first line may start with a UTF-8 BOM, which the event-stream rules say to drop.
    private var atStreamStart = true
    private var failure: SSEError?

    private var eventType: String?
    private var data: [UInt8] = []
    private var hasData = false
    private var lastEventID: String?

    public init(maxLineBytes: Int = 1 << 20, maxEventBytes: Int = 1 << 22) {
        self.maxLineBytes = max(1, maxLineBytes)
        self.maxEventBytes = max(1, maxEventBytes)
    }

    public mutating func feed(_ bytes: [UInt8]) throws(SSEError) -> [SSEEvent] {
        // withUnsafeBytes only rethrows untyped errors, so the typed error travels in a Result.
        let result: Result<[SSEEvent], SSEError> = bytes.withUnsafeBytes { raw in
            do throws(SSEError) { return .success(try feed(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(SSEError) -> [SSEEvent] {
        // A reader that failed stays failed: the stream position after an overlong line is unknown.
        if let failure { throw failure }
        var events: [SSEEvent] = []
        var i = 0
        let n = bytes.count
        if n > 0, lastWasCR {
            lastWasCR = false
            if bytes[0] == 0x0A { i = 1 }
        }
        while i < n {
            // Find the next line end; everything before it extends the current line.
            var j = i
            while j < n, bytes[j] != 0x0A, bytes[j] != 0x0D { j += 1 }
            if j > i {
                if line.count + (j - i) > maxLineBytes { try fail(.lineTooLong(maxLineBytes)) }
                line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<j]))
            }
            if j == n { break }
            if bytes[j] == 0x0D {
                if j + 1 < n {
                    i = bytes[j + 1] == 0x0A ? j + 2 : j + 1
                } else {
                    lastWasCR = true
                    i = n
                }
            } else {
                i = j + 1
            }
            if let event = try endLine() { events.append(event) }
        }
        return events
    }

    /// The end of the stream: a last line without a line end, and a last event without its blank
    /// line, are still delivered (sites that close right after their last `data:` line exist).
    public mutating func finish() -> [SSEEvent] {
        guard failure == nil else { return [] }
        var events: [SSEEvent] = []
        if !line.isEmpty {
            if let event = try? endLine() { events.append(event) }
        }
        if let event = dispatch() { events.append(event) }
        lastWasCR = false
        return events
    }

    private mutating func fail(_ error: SSEError) throws(SSEError) -> Never {
        failure = error
        line = []
        data = []
        throw error
    }

    /// Handles one complete line (already without its line end) and resets the line buffer.
    private mutating func endLine() throws(SSEError) -> SSEEvent? {
        defer { line.removeAll(keepingCapacity: line.capacity <= 64 * 1024) }
        var start = 0
        if atStreamStart {
            atStreamStart = false
            if line.count >= 3, line[0] == 0xEF, line[1] == 0xBB, line[2] == 0xBF { start = 3 }
        }
        if start == line.count { return dispatch() }
        if line[start] == UInt8(ascii: ":") {
            commentsSeen += 1
            return nil
        }
        // field ":" [" "] value, or a whole line that is a field name with an empty value.
        var colon = start
        while colon < line.count, line[colon] != UInt8(ascii: ":") { colon += 1 }
        var valueStart = min(colon + 1, line.count)
        if valueStart < line.count, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let name = line[start..<colon]
        let value = line[valueStart..<line.count]
        if name.elementsEqual("data".utf8) {
            let added = value.count + (hasData ? 1 : 0)
            if data.count + added > maxEventBytes { try fail(.eventTooLarge(maxEventBytes)) }
            if hasData { data.append(0x0A) }
            data.append(contentsOf: value)
            hasData = true
        } else if name.elementsEqual("event".utf8) {
            eventType = String(decoding: value, as: UTF8.self)
        } else if name.elementsEqual("id".utf8) {
            // The rules ignore ids containing NUL (they could not be sent back in Last-Event-ID).
            if !value.contains(0) { lastEventID = String(decoding: value, as: UTF8.self) }
        }
        // `retry:` and unknown fields are ignored: reconnection is the driver's decision.
        return nil
    }

    /// A blank line: the event collected so far is complete. Events without data are dropped.
    private mutating func dispatch() -> SSEEvent? {
        defer {
            eventType = nil
            data.removeAll(keepingCapacity: data.capacity <= 64 * 1024)
            hasData = false
        }
        guard hasData else { return nil }
        return SSEEvent(event: eventType, data: String(decoding: data, as: UTF8.self), id: lastEventID)
    }
}
