import Hummingbird
import NIOCore

/// Request context that keeps the connection: the `disconnect` fault closes it mid-body.
struct SimContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Bodies are collected by the routes themselves, with their own bound.
    var maxUploadSize: Int { .max }
}
