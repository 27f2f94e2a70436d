import NIOCore
import Testing
@testable import Host

/// The first-token stamps an event sink takes as the driver pushes: the upstream's status and the
/// answer's first delta, at the push (not when the writer gets to them), once each.
struct EventSinkArrivalTests {
    @Test func theFirstStatusAndTheFirstDeltaAreStampedAtThePush() async {
        let clock = FakeClock()
        let sink = EventSink(requestID: "r", now: clock.now)
        #expect(sink.arrivals.upstreamHead == nil && sink.arrivals.firstDelta == nil)
        clock.advance(.milliseconds(3))
        let head = clock.reading
        _ = sink.push(.upstreamStatus(200))
        clock.advance(.milliseconds(1))
        _ = sink.push(.session(id: "s", exchange: "e"))
        _ = sink.push(.usage(prompt: 1, completion: 0))
        #expect(sink.arrivals.firstDelta == nil, "bookkeeping is not a delta")
        clock.advance(.milliseconds(40))
        let delta = clock.reading
        _ = sink.push(.text("Hel"))
        clock.advance(.milliseconds(5))
        _ = sink.push(.upstreamStatus(200))
        _ = sink.push(.text("lo"))
        // The writer takes the batch later: the stamps stay those of the pushes.
        clock.advance(.milliseconds(7))
        _ = await sink.next()
        #expect(sink.arrivals.upstreamHead == head)
        #expect(sink.arrivals.firstDelta == delta)
    }

    @Test(arguments: [
        DriverEvent.reasoning("thinking"),
        .toolCallStart(index: 0, id: "call_1", name: "read"),
    ])
    func reasoningAndToolCallsAreDeltasToo(_ first: DriverEvent) {
        let clock = FakeClock()
        let sink = EventSink(requestID: "r", now: clock.now)
        clock.advance(.milliseconds(2))
        _ = sink.push(first)
        #expect(sink.arrivals.firstDelta == clock.reading)
        #expect(sink.arrivals.upstreamHead == nil, "a driver that reports no status has no head stamp")
    }

    @Test func aTerminalWithoutContentLeavesNoDeltaStamp() {
        let sink = EventSink(requestID: "r")
        _ = sink.push(.upstreamStatus(502))
        _ = sink.push(.error(DriverFailure(.upstream, "bad gateway", upstreamStatus: 502)))
        _ = sink.push(.text("late"))  // after the terminal: dropped, and not stamped
        #expect(sink.arrivals.upstreamHead != nil)
        #expect(sink.arrivals.firstDelta == nil)
    }
}
