import Foundation
import Hummingbird
import NIOCore

/// Writes planned stream steps as SSE bytes, in the framing variants a reader must survive:
/// CRLF line ends, comment lines between events, and bytes split into tiny separate writes.
struct UIStreamWriter: Sendable {
    var crlf = false
    var comments = false
    var splitWrites = false
    /// Events that are ready together leave in one write (the benchmark's paced answers): a
    /// write per event was much of why a site answer cost the simulator more CPU than an OpenAI
    /// answer (8 frames around the text against 3 chunks), on the core it shares with the load
    /// generator, and it sent the gateway as many extra segments to read.
    var coalesce = false
    /// The connection, for `disconnect`.
    let channel: any Channel

    struct SimulatedDisconnect: Error {}

    func write(_ steps: [StreamStep], to writer: inout any ResponseBodyWriter) async throws {
        var events = 0
        var pending: [UInt8] = []  // coalesced events not yet written
        let answerStart = NIODeadline.now()
        for step in steps {
            switch step {
            case .pause(let ms):
                try await flush(&pending, to: &writer)
                try await Task.sleep(for: .milliseconds(ms))
            case .disconnect:
                try await flush(&pending, to: &writer)
                try await disconnect()
            case .frame(let value):
                try await emit("data: \(value.serialized)\n\n", eventIndex: events, pending: &pending, to: &writer)
                events += 1
            case .raw(let text):
                try await emit(text, eventIndex: events, pending: &pending, to: &writer)
                events += 1
            case .paced(let chunk):
                try await flush(&pending, to: &writer)
                // Due relative to the answer's start, so the schedule does not drift with load. A
                // timer of the connection's event loop, not Task.sleep: with the answer running on
                // that loop (PacedAnswerBody), the chunk is stamped and written by the thread the
                // timer fires on, where Task.sleep's timer thread would wake another thread first.
                try await channel.eventLoop.scheduleTask(deadline: answerStart + .milliseconds(Int64(chunk.dueMs))) {}.futureResult.get()
                try await emit(chunk.event(), eventIndex: events, pending: &pending, to: &writer)
                events += 1
            }
        }
        try await flush(&pending, to: &writer)
        try await writer.finish(nil)
    }

    private func flush(_ pending: inout [UInt8], to writer: inout any ResponseBodyWriter) async throws {
        guard !pending.isEmpty else { return }
        let buffer = ByteBuffer(bytes: pending)
        pending.removeAll(keepingCapacity: true)
        try await writer.write(buffer)
    }

    private func emit(
        _ event: String, eventIndex: Int, pending: inout [UInt8], to writer: inout any ResponseBodyWriter
    ) async throws {
        var text = event
        if comments, eventIndex > 0 {
            // Both comment placements occur in the wild: a keep-alive event of its own, and a
            // comment line leading the next event.
            text = (eventIndex % 2 == 1 ? ": keep-alive\n\n" : ": ping\n") + text
        }
        if crlf { text = text.replacingOccurrences(of: "\n", with: "\r\n") }
        if coalesce && !splitWrites {
            pending.append(contentsOf: text.utf8)
            return
        }
        let bytes = Array(text.utf8)
        guard splitWrites else {
            try await writer.write(ByteBuffer(bytes: bytes))
            return
        }
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + Int.random(in: 1...7))
            try await writer.write(ByteBuffer(bytes: bytes[start..<end]))
            // A moment between pieces so they leave as separate writes, not one coalesced flush.
            try await Task.sleep(for: .microseconds(200))
            start = end
        }
    }

    /// Closes the connection with the chunked body unfinished (no terminating chunk): what a
    /// crashed upstream or a cut network looks like to the reader.
    private func disconnect() async throws {
        // Let what was written reach the socket before the close discards pending writes.
        try await Task.sleep(for: .milliseconds(50))
        try? await channel.close()
        throw SimulatedDisconnect()
    }
}
