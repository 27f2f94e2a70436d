import PluginABI

/// One step of a scripted answer. Timing that depends on the config (`delta_delay_ms`,
/// `first_delay_ms`) is applied by `StreamRun`; only a scenario's own silences are steps.
enum MockEvent: Sendable {
    case upstreamStatus(Int32)
    case session(id: String, exchange: String)
    case text(String)
    case reasoning(String)
    /// A benchmark chunk whose text is stamped when it is emitted (`mock-paced`, BenchStamp).
    case stampedText(seq: Int, bytes: Int)
    case usage(prompt: Int64, completion: Int64)
    /// Silence before the next step.
    case pause(milliseconds: Int)
    /// Emit nothing more; only a cancel ends the stream.
    case hang
    case finish(m2a_finish_reason)
    case fail(m2a_error_kind, String, upstreamStatus: Int32 = 0, retryAfterMs: Int64 = 0)

    var isDelta: Bool {
        switch self {
        case .text, .reasoning, .stampedText: return true
        default: return false
        }
    }
}

/// A scripted answer, produced lazily: `mock-long` may be configured to tens of thousands of
/// deltas and concurrent benchmark streams must not each hold all of them in memory.
struct Script: Sendable {
    enum Segment: Sendable {
        case events([MockEvent])
        case generated(count: Int, make: @Sendable (Int) -> MockEvent)
    }

    private var segments: [Segment]
    private var segment = 0
    private var offset = 0

    init(_ segments: [Segment]) { self.segments = segments }
    init(_ events: [MockEvent]) { self.init([.events(events)]) }

    mutating func next() -> MockEvent? {
        while segment < segments.count {
            let current: MockEvent?
            switch segments[segment] {
            case .events(let events): current = offset < events.count ? events[offset] : nil
            case .generated(let count, let make): current = offset < count ? make(offset) : nil
            }
            if let current {
                offset += 1
                return current
            }
            segment += 1
            offset = 0
        }
        return nil
    }
}

extension MockEvent {
    /// `text` cut into text deltas of about `bytes` UTF-8 bytes, never inside a Character, so
    /// the host's streaming parsers see markup split at arbitrary places but never broken UTF-8.
    static func textDeltas(_ text: String, bytes: Int = 7) -> [MockEvent] {
        var deltas: [MockEvent] = []
        var piece = ""
        var size = 0
        for character in text {
            piece.append(character)
            size += character.utf8.count
            if size >= bytes {
                deltas.append(.text(piece))
                piece = ""
                size = 0
            }
        }
        if !piece.isEmpty { deltas.append(.text(piece)) }
        return deltas
    }
}
