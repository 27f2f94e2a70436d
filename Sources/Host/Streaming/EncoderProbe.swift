/// The streaming encoders are internal, and release-mode benchmarks cannot `@testable import`:
/// these entry points let Benchmarks/HotPaths and Benchmarks/Profile time them per text delta,
/// exactly as the streaming loop calls them (one output buffer reused across deltas).
public struct EncoderProbe {
    public enum Wire: Sendable { case openAI, anthropic }

    private var openAI = OpenAIStreamEncoder(id: "chatcmpl-0123456789abcdef01234567", created: 1_763_000_000, model: "qwen-3-235b-instruct")
    private var anthropic = AnthropicStreamEncoder(id: "msg_0123456789abcdef01234567", model: "claude-sonnet-4-5", inputTokens: 100)
    private let wire: Wire
    private var out: [UInt8] = []

    public init(_ wire: Wire) {
        self.wire = wire
        out.reserveCapacity(4096)
    }

    /// Encodes one text delta; returns the bytes written (the buffer is then emptied for the next).
    public mutating func encode(text: String) -> Int {
        out.removeAll(keepingCapacity: true)
        switch wire {
        case .openAI: openAI.encode(.text(text), into: &out)
        case .anthropic: anthropic.encode(.text(text), into: &out)
        }
        return out.count
    }
}
