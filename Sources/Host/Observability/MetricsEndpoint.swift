import Hummingbird
import NIOCore

/// `GET /metrics`: the Prometheus text exposition (format 0.0.4). Open like `/health`: it holds
/// counts by closed label sets only, never a secret, a model name or a request id.
enum MetricsEndpoint {
    static func respond(host: HostServer) -> Response {
        host.metrics.refresh(state: host.state)
        let bytes = host.metrics.exposition()
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        headers[.contentLength] = String(bytes.count)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
