import Hummingbird
import Logging

/// Request debugging around every route: with LOG_HEADERS, one debug line per request with its
/// headers (credentials replaced); with trace capture on, a sample of the POST requests get their
/// bodies recorded as they stream through (`TraceRecorder`). Runs inside RequestIDMiddleware, so
/// the request id is known.
struct TraceMiddleware: RouterMiddleware {
    typealias Context = HostRequestContext
    let recorder: TraceRecorder?
    let logHeaders: Bool
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if logHeaders { logRequestHeaders(request, context: context) }
        guard let recorder, request.method == .post, recorder.shouldSample() else {
            return try await next(request, context)
        }
        // A separate function: the sampled path's locals would otherwise be in this frame, which
        // stays in the task's allocator for every stream (see `ChatRoute.handle`).
        return try await traced(request, context: context, recorder: recorder, next: next)
    }

    @inline(never)
    private func logRequestHeaders(_ request: Request, context: Context) {
        logger.debug("request headers", metadata: [
            "request_id": .string(context.requestID), "method": .string(request.method.rawValue), "path": .string(request.uri.path),
            "headers": .dictionary(Dictionary(uniqueKeysWithValues: HeaderRedaction.sanitized(request.headers).map { ($0.name, .string($0.value)) })),
        ])
    }

    private func traced(_ request: Request, context: Context, recorder: TraceRecorder, next: (Request, Context) async throws -> Response) async throws -> Response {
        let capture = TraceCapture(
            requestID: context.requestID, method: request.method.rawValue, path: request.uri.description, headers: HeaderRedaction.json(request.headers))
        var request = request
        request.body = RequestBody(asyncSequence: request.body.map { buffer in
            capture.request(buffer.readableBytesView)
            return buffer
        })
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            capture.outcome("the route failed")
            recorder.write(capture)
            throw error
        }
        capture.status(Int(response.status.code))
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            do {
                try await body.write(writer.map { buffer in
                    capture.response(buffer.readableBytesView)
                    return buffer
                })
            } catch {
                capture.outcome("the response ended early (client gone or write failed)")
                recorder.write(capture)
                throw error
            }
            recorder.write(capture)
        }
        return response
    }
}
