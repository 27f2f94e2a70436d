/// Token counts when the upstream gives none. new-api bills from them and replaces everything by
/// its own estimate when prompt_tokens is 0, so an estimate must be positive and roughly right:
/// about four ASCII characters per token, one token per CJK or other non-ASCII character.
enum TokenEstimator {
    static func estimate(_ text: String) -> Int {
        var ascii = 0
        var other = 0
        for b in text.utf8 {
            if b < 0x80 { ascii += 1 } else if b & 0xC0 != 0x80 { other += 1 }
        }
        return (ascii + 3) / 4 + other
    }

    static func estimate(_ request: CanonicalRequest) -> Int {
        var total = 0
        for m in request.messages {
            total += 4 + estimate(m.content)  // per-message framing, as OpenAI counts it
            for call in m.toolCalls { total += estimate(call.name) + estimate(call.arguments) }
        }
        for tool in request.tools { total += estimate(tool.name) + estimate(tool.description) + estimate(tool.parameters.serialized) }
        return max(1, total)
    }
}
