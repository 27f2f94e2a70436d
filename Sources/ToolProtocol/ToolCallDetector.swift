/// Finds a `<tool_calls>` block in streamed answer text (tool-protocol.md). Text before the block
/// goes out as soon as it arrives; only a tail that could still become `<tool_calls>` is held
/// back. Markup inside a fenced code block (```) or an inline code span is text. After
/// `</tool_calls>` nothing more is read: the block is the answer's end. A bare `<invoke` (a model
/// that forgot or garbled the wrapper) also starts a block, so its markup never shows as text.
///
/// Works on any split of the text: it keeps its state between deltas, scalar by scalar.
public struct ToolCallDetector: Sendable {
    public enum Output: Equatable, Sendable {
        case text(String)
        /// The markup between `<tool_calls>` and `</tool_calls>`.
        case block(String)
        /// The answer ended inside a block that never closed.
        case unterminated(String)
    }

    public static let open = "<tool_calls>"
    public static let close = "</tool_calls>"
    /// What starts a block: the wrapper, or an invoke without it (kept as part of the block).
    private static let openers: [(bytes: [UInt8], keep: Bool)] = [(Array(open.utf8), false), (Array("<invoke".utf8), true)]
    private static let closeBytes = Array(close.utf8)

    private enum State { case text, block, done }
    private var state = State.text
    /// A prefix of an opener not yet known to be one (it may span deltas).
    private var held: [UInt8] = []
    private var blockBuffer: [UInt8] = []
    // Markdown context, so examples inside code are not calls.
    private enum LineState { case start, backticks(Int), content, fenceInfo }
    private var line = LineState.start
    private var inFence = false
    private var inInlineCode = false

    public private(set) var sawBlock = false

    public init() {}

    public var isDone: Bool { state == .done }

    /// Reads the delta's UTF-8 bytes. Every byte that matters (`<`, the openers' letters, `>`,
    /// backticks, line ends, indentation) is ASCII, and the bytes of a multi-byte scalar never
    /// match one, so this decides exactly as a scalar-by-scalar reading would; text goes out as
    /// slices of the delta instead of being rebuilt scalar by scalar (README "Performance").
    public mutating func feed(_ delta: String) -> [Output] {
        guard state != .done else { return [] }
        var out: [Output] = []
        var delta = delta
        delta.withUTF8 { feed(bytes: $0, into: &out) }
        return out
    }

    private mutating func feed(bytes b: UnsafeBufferPointer<UInt8>, into out: inout [Output]) {
        // Text of this delta not yet sent starts at `runStart`; `carried` is held text from
        // earlier deltas that turned out to be plain and goes out before it.
        var runStart = 0
        var carried: [UInt8] = []
        // Where the current held prefix began in this delta (nil: it began in an earlier one).
        var heldStart: Int? = held.isEmpty ? 0 : nil
        func emitText(upTo end: Int) {
            guard !carried.isEmpty || end > runStart else { return }
            var text = String(decoding: carried, as: UTF8.self)
            if end > runStart { text += String(decoding: UnsafeBufferPointer(rebasing: b[runStart..<end]), as: UTF8.self) }
            out.append(.text(text))
            carried = []
        }
        var i = 0
        while i < b.count {
            let byte = b[i]
            switch state {
            case .done:
                return
            case .block:
                blockBuffer.append(byte)
                if byte == UInt8(ascii: ">"), blockBuffer.count >= Self.closeBytes.count, blockBuffer.suffix(Self.closeBytes.count).elementsEqual(Self.closeBytes) {
                    out.append(.block(String(decoding: blockBuffer.dropLast(Self.closeBytes.count), as: UTF8.self)))
                    blockBuffer = []
                    state = .done
                    return
                }
            case .text:
                if !held.isEmpty || (byte == UInt8(ascii: "<") && !inFence && !inInlineCode) {
                    if let opener = Self.openers.first(where: { held.count < $0.bytes.count && $0.bytes[held.count] == byte && $0.bytes.starts(with: held) }) {
                        if held.isEmpty { heldStart = i }
                        held.append(byte)
                        if held.count == opener.bytes.count {
                            // The text before the opener goes out; the opener starts the block.
                            emitText(upTo: heldStart ?? 0)
                            blockBuffer = opener.keep ? held : []
                            held = []
                            state = .block
                            sawBlock = true
                        }
                        i += 1
                        continue
                    }
                    // Not an opening tag after all: what was held is ordinary text.
                    for h in held { track(h) }
                    if heldStart == nil {
                        // It began in an earlier delta: its bytes from there go out first.
                        carried = Array(held.prefix(held.count - i))
                    }
                    held = []
                    if byte == UInt8(ascii: "<") && !inFence && !inInlineCode {
                        heldStart = i
                        held = [byte]
                        i += 1
                        continue
                    }
                }
                track(byte)
            }
            i += 1
        }
        guard state == .text else { return }
        if held.isEmpty {
            emitText(upTo: b.count)
        } else if let start = heldStart {
            emitText(upTo: start)
        } else {
            emitText(upTo: 0)
        }
    }

    /// The upstream ended: release a held tail, or report a block that never closed.
    public mutating func finish() -> [Output] {
        switch state {
        case .text:
            defer { held = []; state = .done }
            return held.isEmpty ? [] : [.text(String(decoding: held, as: UTF8.self))]
        case .block:
            state = .done
            return [.unterminated(String(decoding: blockBuffer, as: UTF8.self))]
        case .done:
            return []
        }
    }

    /// Markdown state: a line that starts with ``` (after indentation) opens or closes a fence,
    /// whatever info string follows; single backticks toggle inline code within a line.
    private mutating func track(_ s: UInt8) {
        if s == UInt8(ascii: "\n") {
            if case .backticks(let n) = line, n >= 3 { inFence.toggle() }
            line = .start
            inInlineCode = false
            return
        }
        switch line {
        case .fenceInfo:
            return
        case .start:
            if s == UInt8(ascii: " ") || s == UInt8(ascii: "\t") { return }
            if s == UInt8(ascii: "`") {
                line = .backticks(1)
                return
            }
            line = .content
        case .backticks(let n):
            if s == UInt8(ascii: "`") {
                line = .backticks(n + 1)
                return
            }
            if n >= 3 {
                inFence.toggle()
                line = .fenceInfo
                return
            }
            if !inFence && n % 2 == 1 { inInlineCode.toggle() }
            line = .content
        case .content:
            if s == UInt8(ascii: "`") && !inFence { inInlineCode.toggle() }
        }
    }
}
