import NIOCore

/// A task executor that runs jobs on one NIO event loop.
///
/// Why: a task that writes to a channel otherwise runs on Swift's cooperative pool, and every
/// write hops to the channel's event loop; a wake-up from another thread (a driver's, a timer's)
/// lands on the pool first. With the task preferring its connection's event loop, wake-ups land
/// on the loop that owns the socket and writes happen there inline (NIO's async writer writes
/// directly when it is already on the channel's loop): one hand-off instead of two.
///
/// Everything that runs here must not block the loop.
public final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    public let loop: any EventLoop

    public init(_ loop: any EventLoop) { self.loop = loop }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
