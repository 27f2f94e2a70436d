import NIOCore
import NIOHTTP1
import NIOPosix

/// One keep-alive HTTP/1.1 connection running one exchange at a time. Confined to its event loop.
final class BenchConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private(set) var channel: (any Channel)?
    private var current: Exchange?
    private var onDone: ((Exchange.Outcome, Bool) -> Void)?
    private var timeout: Scheduled<Void>?
    private var keepAlive = true
    private(set) var closed = false

    static func connect(to target: TargetURL, on loop: any EventLoop) -> EventLoopFuture<BenchConnection> {
        let connection = BenchConnection()
        return ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(connection)
                }
            }
            .connect(host: target.host, port: target.port)
            .map { channel in
                connection.channel = channel
                return connection
            }
    }

    /// Sends the request; `done(outcome, reusable)` runs once, on the loop, when it is over.
    func send(_ exchange: Exchange, done: @escaping (Exchange.Outcome, Bool) -> Void) {
        guard let channel, !closed else {
            done(exchange.end(cleanly: false), false)
            return
        }
        current = exchange
        onDone = done
        keepAlive = true
        let plan = exchange.plan
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: plan.target.path)
        head.headers.add(name: "Host", value: "\(plan.target.host):\(plan.target.port)")
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(plan.body.readableBytes))
        head.headers.add(name: "Accept", value: plan.stream ? "text/event-stream" : "application/json")
        if let key = plan.apiKey { head.headers.add(name: "Authorization", value: "Bearer \(key)") }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(plan.body)), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        timeout = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(plan.timeoutMs))) { [weak self] in
            self?.timedOut()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let exchange = current else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            keepAlive = head.isKeepAlive
            exchange.head(status: Int(head.status.code))
        case .body(let buffer):
            exchange.bodyBytes(buffer)
        case .end:
            complete(exchange.end(cleanly: true), reusable: keepAlive)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        if let exchange = current { complete(exchange.end(cleanly: false), reusable: false) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func timedOut() {
        guard let exchange = current else { return }
        exchange.recordFailure("timeout", "no complete answer within \(exchange.plan.timeoutMs) ms")
        current = nil
        let done = onDone
        onDone = nil
        close()
        done?(.failed(kind: "timeout", detail: nil), false)
    }

    private func complete(_ outcome: Exchange.Outcome, reusable: Bool) {
        timeout?.cancel()
        timeout = nil
        current = nil
        let done = onDone
        onDone = nil
        if !reusable { close() }
        done?(outcome, reusable && !closed)
    }

    func close() {
        guard !closed else { return }
        closed = true
        channel?.close(promise: nil)
    }
}
