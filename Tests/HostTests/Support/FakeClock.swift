import Foundation
import NIOCore

/// A clock that moves only when a test moves it (for code that takes a `now` closure).
final class FakeClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = NIODeadline.uptimeNanoseconds(1_000_000_000)
    var now: @Sendable () -> NIODeadline { { self.lock.withLock { self.current } } }
    var reading: NIODeadline { lock.withLock { current } }
    func advance(_ amount: TimeAmount) { lock.withLock { current = current + amount } }
}
