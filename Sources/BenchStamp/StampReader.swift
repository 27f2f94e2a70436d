/// Reads a paced answer's content as it arrives, in whatever pieces, and checks it chunk by chunk:
/// sequence numbers 0, 1, 2… in order, each chunk's filler intact and its length as asked. Each
/// completed stamp is handed to the caller with its send time, for the per-chunk delay.
public struct StampReader: Sendable {
    public let spec: PaceSpec
    /// Stamps read so far.
    public private(set) var stamps = 0
    /// The first thing found wrong, if anything (the rest of the answer is then not checked).
    public private(set) var problem: String?

    private enum State { case expectMark, seq, micros, filler }
    private var state = State.expectMark
    private var seq = 0
    private var micros: Int64 = 0
    private var digits = 0
    /// Bytes of the current chunk so far (stamp and filler).
    private var chunkLength = 0
    private var fillerPosition = 0

    public init(spec: PaceSpec) { self.spec = spec }

    /// Feeds content bytes; calls `stamped(seq, sentMicros)` for each stamp completed in them.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes, stamped: (Int, Int64) -> Void) where Bytes.Element == UInt8 {
        guard problem == nil else { return }
        for byte in bytes {
            chunkLength += 1
            switch state {
            case .expectMark:
                guard byte == ChunkStamp.mark else { return fail("chunk \(stamps) does not start with a stamp") }
                state = .seq
                seq = 0
                digits = 0
            case .seq:
                if byte == ChunkStamp.at, digits > 0 {
                    guard seq == stamps else { return fail("chunk \(seq) arrived where chunk \(stamps) was due") }
                    state = .micros
                    micros = 0
                    digits = 0
                } else if let d = digit(byte), digits < 9 {
                    seq = seq * 10 + d
                    digits += 1
                } else {
                    return fail("broken stamp in chunk \(stamps)")
                }
            case .micros:
                if byte == ChunkStamp.mark, digits > 0 {
                    stamps += 1
                    state = .filler
                    fillerPosition = 0
                    stamped(seq, micros)
                } else if let d = digit(byte), digits < 18 {
                    micros = micros * 10 + Int64(d)
                    digits += 1
                } else {
                    return fail("broken stamp in chunk \(stamps)")
                }
            case .filler:
                if byte == ChunkStamp.mark {
                    // The next chunk starts: the one before must have had its full length.
                    guard checkLength(excludingLast: true) else { return }
                    guard stamps < spec.chunks else { return fail("more than \(spec.chunks) chunks") }
                    chunkLength = 1
                    state = .seq
                    seq = 0
                    digits = 0
                } else {
                    guard byte == ChunkStamp.filler(seq: seq, position: fillerPosition) else {
                        return fail("filler of chunk \(seq) altered at byte \(fillerPosition)")
                    }
                    fillerPosition += 1
                }
            }
        }
    }

    /// The answer ended: every chunk must have arrived, the last one whole.
    public mutating func finish() {
        guard problem == nil else { return }
        if stamps == 0, spec.chunks == 0 { return }
        guard state == .filler else { return fail("the answer ended inside chunk \(stamps)") }
        guard checkLength(excludingLast: false) else { return }
        if stamps != spec.chunks { fail("\(stamps) of \(spec.chunks) chunks arrived") }
    }

    public var isIntact: Bool { problem == nil }

    private mutating func checkLength(excludingLast: Bool) -> Bool {
        let length = chunkLength - (excludingLast ? 1 : 0)
        let expected = ChunkStamp.length(seq: seq, size: spec.chunkBytes, micros: micros)
        if length != expected {
            fail("chunk \(seq) has \(length) bytes, \(expected) were sent")
            return false
        }
        return true
    }

    private mutating func fail(_ why: String) {
        if problem == nil { problem = why }
    }

    @inline(__always)
    private func digit(_ byte: UInt8) -> Int? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
    }
}
