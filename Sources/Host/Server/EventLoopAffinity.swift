import Hummingbird
import LoopExecutor
import NIOCore

// Why each request runs on its connection's event loop: a streamed chunk otherwise crosses three
// threads (the driver's thread wakes the request's task on Swift's cooperative pool, whose write
// then hops to the connection's event loop). With the loop executor (LoopExecutor) the driver's
// wake-up lands directly on the loop that owns the socket: in paired runs a slightly lower chunk
// delay and CPU (README "Performance").
//
// Everything that runs there must not block: routes only do CPU work and await; blocking calls
// (Redis, logins) live on driver threads by the ABI's rules. The one system call a route makes
// is the access log's write to stdout, which before this blocked one of the pool's few threads.

/// Runs each request (its route and, for streamed answers, the body writer) on the event loop of
/// the connection it arrived on (see above).
struct EventLoopAffinityMiddleware: RouterMiddleware {
    typealias Context = HostRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let executor = EventLoopTaskExecutor(context.channel.eventLoop)
        var response = try await withTaskExecutorPreference(executor) { try await next(request, context) }
        // The body closure runs after this middleware returned (Hummingbird writes it later, in the
        // connection's task), so it carries its own preference. Fixed-size bodies need nothing.
        if response.body.contentLength == nil {
            let body = response.body
            response.body = ResponseBody { writer in
                try await withTaskExecutorPreference(executor) { try await body.write(writer) }
            }
        }
        return response
    }
}
