import Hummingbird
import Logging
import NIOCore

/// Per-request context: Hummingbird's core storage plus the request id and the connection.
public struct HostRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel
    public var requestID: String = ""

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Bodies are collected by the routes against BODY_SIZE_LIMIT themselves.
    public var maxUploadSize: Int { .max }
}
