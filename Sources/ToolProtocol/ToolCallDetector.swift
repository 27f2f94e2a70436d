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
    private static let openers: [(scalars: [Unicode.Scalar], keep: Bool)] = [
        (Array(open.unicodeScalars), false), (Array("<invoke".unicodeScalars), true),
    ]

    private enum State { case text, block, done }
    private var state = State.text
    private var held = ""            // a prefix of "<tool_calls>" not yet known to be one
    private var heldCount = 0
    private var blockBuffer = ""
    // Markdown context, so examples inside code are not calls.
    private enum LineState { case start, backticks(Int), content, fenceInfo }
    private var line = LineState.start
    private var inFence = false
    private var inInlineCode = false

    public private(set) var sawBlock = false

    public init() {}

    public var isDone: Bool { state == .done }

    public mutating func feed(_ delta: String) -> [Output] {
        var out: [Output] = []
        var text = ""
        func emitText() {
            if !text.isEmpty { out.append(.text(text)) }
            text = ""
        }
        for scalar in delta.unicodeScalars {
            switch state {
            case .done:
                emitText()
                return out
            case .block:
                blockBuffer.unicodeScalars.append(scalar)
                if scalar == ">", blockBuffer.hasSuffix(Self.close) {
                    out.append(.block(String(blockBuffer.dropLast(Self.close.count))))
                    blockBuffer = ""
                    state = .done
                    return out
                }
            case .text:
                if heldCount > 0 || (scalar == "<" && !inFence && !inInlineCode) {
                    if let opener = Self.openers.first(where: { heldCount < $0.scalars.count && $0.scalars[heldCount] == scalar && Self.startsWith($0.scalars, held) }) {
                        held.unicodeScalars.append(scalar)
                        heldCount += 1
                        if heldCount == opener.scalars.count {
                            emitText()
                            blockBuffer = opener.keep ? held : ""
                            held = ""
                            heldCount = 0
                            state = .block
                            sawBlock = true
                        }
                        continue
                    }
                    // Not an opening tag after all: what was held is ordinary text.
                    for h in held.unicodeScalars { track(h) }
                    text += held
                    held = ""
                    heldCount = 0
                    if scalar == "<" && !inFence && !inInlineCode {
                        held = "<"
                        heldCount = 1
                        continue
                    }
                }
                track(scalar)
                text.unicodeScalars.append(scalar)
            }
        }
        emitText()
        return out
    }

    private static func startsWith(_ pattern: [Unicode.Scalar], _ prefix: String) -> Bool {
        var i = 0
        for scalar in prefix.unicodeScalars {
            guard i < pattern.count, pattern[i] == scalar else { return false }
            i += 1
        }
        return true
    }

    /// The upstream ended: release a held tail, or report a block that never closed.
    public mutating func finish() -> [Output] {
        switch state {
        case .text:
            defer { held = ""; heldCount = 0; state = .done }
            return held.isEmpty ? [] : [.text(held)]
        case .block:
            state = .done
            return [.unterminated(blockBuffer)]
        case .done:
            return []
        }
    }

    /// Markdown state: a line that starts with ``` (after indentation) opens or closes a fence,
    /// whatever info string follows; single backticks toggle inline code within a line.
    private mutating func track(_ s: Unicode.Scalar) {
        if s == "\n" {
            if case .backticks(let n) = line, n >= 3 { inFence.toggle() }
            line = .start
            inInlineCode = false
            return
        }
        switch line {
        case .fenceInfo:
            return
        case .start:
            if s == " " || s == "\t" { return }
            if s == "`" {
                line = .backticks(1)
                return
            }
            line = .content
        case .backticks(let n):
            if s == "`" {
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
            if s == "`" && !inFence { inInlineCode.toggle() }
        }
    }
}
