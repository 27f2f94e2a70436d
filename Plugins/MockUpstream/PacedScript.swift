import BenchStamp
import PluginABI

/// `mock-paced`: the benchmark's timed answer with no network at all (an instant upstream on a
/// fixed schedule). The last user message's `[[pace:ttft_ms=…,chunks=…,gap_ms=…,chunk_bytes=…]]`
/// gives the schedule (default: 20 chunks at once); each chunk's text is stamped with its sequence
/// number and the wall-clock microsecond it was emitted (BenchStamp), so the delay mix2api adds
/// between the driver and the client is measured per chunk.
enum PacedScript {
    static func script(for request: MockRequest, answered: [MockEvent]) -> Script {
        let pace: PaceSpec
        do {
            pace = try PaceSpec.find(in: request.lastUserContent ?? "") ?? PaceSpec()
        } catch {
            return Script(answered + [.fail(M2A_ERROR_INVALID_REQUEST, "\(error)", upstreamStatus: 400)])
        }
        let head: [MockEvent] = pace.ttftMs > 0 ? answered + [.pause(milliseconds: pace.ttftMs)] : answered
        return Script([
            .events(head),
            .generated(count: pace.chunks * 2) { step in
                // Even steps are chunks, odd steps the gaps between them (none after the last).
                step % 2 == 0 ? .stampedText(seq: step / 2, bytes: pace.chunkBytes) : .pause(milliseconds: step / 2 + 1 < pace.chunks ? pace.gapMs : 0)
            },
            .events([.finish(M2A_FINISH_STOP)]),
        ])
    }
}
