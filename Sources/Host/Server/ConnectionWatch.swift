import NIOConcurrencyHelpers
import NIOCore

/// Tells a request that its client went away, at once, even while nothing is being written (a
/// stalled upstream). Hummingbird allows remote half-closure, so a client that closes its socket
/// shows up as an `inputClosed` event on the connection; a reset shows up as `channelInactive`.
final class ConnectionState: @unchecked Sendable {
    private let lock = NIOLock()
    private var closed = false
    private var callbacks: [Int: @Sendable () -> Void] = [:]
    private var nextToken = 0

    /// Registers `callback`; returns nil (and does not register) when the client is already gone.
    func onClose(_ callback: @escaping @Sendable () -> Void) -> Int? {
        lock.withLock {
            if closed { return nil }
            nextToken += 1
            callbacks[nextToken] = callback
            return nextToken
        }
    }

    func remove(_ token: Int) { lock.withLock { _ = callbacks.removeValue(forKey: token) } }

    var isClosed: Bool { lock.withLock { closed } }

    fileprivate func markClosed() {
        let toRun: [@Sendable () -> Void] = lock.withLock {
            if closed { return [] }
            closed = true
            defer { callbacks.removeAll() }
            return Array(callbacks.values)
        }
        for callback in toRun { callback() }
    }
}

/// Connection states by channel, so a request handler can find its own.
final class ConnectionRegistry: @unchecked Sendable {
    static let shared = ConnectionRegistry()
    private let states = NIOLockedValueBox<[ObjectIdentifier: ConnectionState]>([:])

    func state(for channel: any Channel) -> ConnectionState? { states.withLockedValue { $0[ObjectIdentifier(channel)] } }
    fileprivate func add(_ channel: any Channel, _ state: ConnectionState) { states.withLockedValue { $0[ObjectIdentifier(channel)] = state } }
    fileprivate func remove(_ channel: any Channel) { _ = states.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(channel)) } }
    var count: Int { states.withLockedValue { $0.count } }
}

/// Sits in each connection's pipeline and feeds its ConnectionState. Passes everything through.
final class ConnectionWatchHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private let state = ConnectionState()

    func handlerAdded(context: ChannelHandlerContext) {
        ConnectionRegistry.shared.add(context.channel, state)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        ConnectionRegistry.shared.remove(context.channel)
        state.markClosed()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed { state.markClosed() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.markClosed()
        ConnectionRegistry.shared.remove(context.channel)
        context.fireChannelInactive()
    }
}
