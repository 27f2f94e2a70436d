import Foundation
import NIOCore
import Testing
@testable import Host

/// The per-stream byte budget of the event sink: only events that pile up behind a write the client
/// does not take count, the overflow is reported once with its own end_reason, and nothing is kept
/// past it.
struct EventSinkBudgetTests {
    static let delta = String(repeating: "x", count: 100)

    @Test func aBurstWhileTheWriterIsFreeIsKept() async {
        let sink = EventSink(requestID: "r", budgetBytes: 1024)
        for _ in 0..<200 { #expect(sink.push(.text(Self.delta))) }
        let batch = await sink.next()
        #expect(batch.events.count == 200)
        #expect(!batch.overflowed)
    }

    @Test func aBurstBehindABriefWaitIsKeptUpToTheHardCap() async {
        let clock = FakeClock()
        let sink = EventSink(requestID: "r", budgetBytes: 1024, now: clock.now)
        let overflows = Counter()
        sink.onOverflow = { overflows.bump() }
        sink.writerWaiting(true)
        clock.advance(.milliseconds(500))
        // 132 bytes each: 62 fit under the hard cap of 8 × 1024, the 63rd does not.
        for _ in 0..<62 { #expect(sink.push(.text(Self.delta))) }
        #expect(overflows.value == 0)
        #expect(sink.push(.text(Self.delta)))
        #expect(overflows.value == 1)
        sink.writerWaiting(false)
        let batch = await sink.next()
        #expect(batch.overflowed)
        #expect(batch.events.count == 62)
    }

    @Test func eventsBehindAStuckWriteOverflowTheBudget() async {
        let clock = FakeClock()
        let sink = EventSink(requestID: "r", budgetBytes: 1024, now: clock.now)
        let overflows = Counter()
        sink.onOverflow = { overflows.bump() }
        sink.writerWaiting(true)
        clock.advance(EventSink.stallGrace)
        // 132 bytes each (100 of text + 32 of overhead): 7 fit in 1024, the 8th does not.
        for _ in 0..<20 { #expect(sink.push(.text(Self.delta))) }
        #expect(overflows.value == 1)
        // The terminal still closes the stream for the bridge; anything after it is refused.
        #expect(sink.push(.finish(.stop)))
        #expect(!sink.push(.text("late")))
        sink.writerWaiting(false)
        let batch = await sink.next()
        #expect(batch.overflowed)
        #expect(batch.events.count == 7)
        #expect(!batch.events.contains(.finish(.stop)))
    }

    @Test func theBudgetStartsAgainWithEveryWrite() async {
        let clock = FakeClock()
        let sink = EventSink(requestID: "r", budgetBytes: 1024, now: clock.now)
        for _ in 0..<3 {
            sink.writerWaiting(true)
            clock.advance(.seconds(10))
            for _ in 0..<7 { _ = sink.push(.text(Self.delta)) }
            sink.writerWaiting(false)
            let batch = await sink.next()
            #expect(batch.events.count == 7)
            #expect(!batch.overflowed)
        }
    }

    @Test func tooSlowIsItsOwnEndReason() {
        let error = ClientError.tooSlow(budget: 1024)
        #expect(error.endReason == .clientTooSlow)
        #expect(error.endReason.rawValue == "client_too_slow")
        #expect(error.code == "client_too_slow")
        #expect(error.message.contains("1024"))
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func bump() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
