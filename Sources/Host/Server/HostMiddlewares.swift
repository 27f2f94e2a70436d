import Hummingbird

/// The host's middlewares (event-loop affinity, then request ids, then tracing) as one level of
/// Hummingbird's chain. Why: each level costs a few async frames (the responder, its closure, the
/// middleware) that stay in the request task's allocator, in slabs of about 1 KiB, for as long as
/// the stream runs; called directly, the three cost about half as many (README "Performance").
struct HostMiddlewares: RouterMiddleware {
    typealias Context = HostRequestContext
    let affinity = EventLoopAffinityMiddleware()
    let requestID = RequestIDMiddleware()
    let trace: TraceMiddleware

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await affinity.handle(request, context: context) { request, context in
            try await requestID.handle(request, context: context) { request, context in
                try await trace.handle(request, context: context, next: next)
            }
        }
    }
}
