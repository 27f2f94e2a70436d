import Digest
/// The `mock-echo` answer: a compact JSON digest of what the driver received, so host tests can
/// assert on the canonical request through a real stream without a debugger. Keys keep this
/// order; absent request fields are `null`.
enum Echo {
    static func digest(of request: MockRequest) -> String {
        let o = request.object
        return JSONText.object([
            ("model", JSONText.encode(o["model"])),
            ("stream", JSONText.encode(o["stream"])),
            ("client", JSONText.encode(o["client"])),
            ("message_count", JSONText.encode(request.messages.count)),
            ("roles", JSONText.encode(request.messages.map(\.role))),
            ("last_user", JSONText.encode(request.lastUserContent)),
            ("tools", JSONText.encode(request.tools.map(\.name))),
            ("tool_mode", JSONText.encode(o["tool_mode"])),
            ("tool_choice", JSONText.encode(o["tool_choice"])),
            ("max_tokens", JSONText.encode(o["max_tokens"])),
            ("temperature", JSONText.encode(o["temperature"])),
            ("request_id", JSONText.encode(o["request_id"])),
            ("session", JSONText.encode(o["session"])),
            ("request_sha256", JSONText.encode(SHA256.hex(request.raw))),
        ])
    }
}
