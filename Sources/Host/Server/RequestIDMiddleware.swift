import HTTPTypes
import Hummingbird

/// Gives every request an id (the caller's X-Request-Id when it is sane, else a new one), returns
/// it as X-Request-Id and X-Oneapi-Request-Id (new-api stores the latter as the upstream request
/// id), and turns any error that escaped a route into the OpenAI error envelope.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = HostRequestContext
    static let requestIDHeader = HTTPField.Name("X-Request-Id")!
    static let oneapiHeader = HTTPField.Name("X-Oneapi-Request-Id")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.requestID = Self.sanitize(request.headers[Self.requestIDHeader]) ?? Identifiers.requestID()
        let requestID = context.requestID
        // The work after the await runs in synchronous helpers: this frame stays in the task's
        // allocator for the whole stream (see `ChatRoute.handle`).
        do {
            return Self.identified(try await next(request, context), requestID: requestID)
        } catch {
            return Self.identified(Self.errorResponse(error, request: request), requestID: requestID)
        }
    }

    @inline(never)
    static func identified(_ response: Response, requestID: String) -> Response {
        var response = response
        response.headers[Self.requestIDHeader] = requestID
        response.headers[Self.oneapiHeader] = requestID
        return response
    }

    /// An error that escaped a route, in the OpenAI error envelope.
    @inline(never)
    static func errorResponse(_ error: any Error, request: Request) -> Response {
        guard let error = error as? HTTPResponseError else {
            return HTTPResponses.openAIError(ClientError(status: 500, type: "server_error", code: "internal_error", message: "internal error", endReason: .adapterError))
        }
        let status = Int(error.status.code)
        let client = ClientError(
            status: status, type: status == 404 ? "not_found_error" : "invalid_request_error",
            code: status == 404 ? "not_found" : "http_\(status)",
            message: status == 404 ? "no route for \(request.method) \(request.uri.path)" : "\(error.status.reasonPhrase)",
            endReason: .invalidRequest)
        return HTTPResponses.openAIError(client)
    }

    /// 1–128 characters of [A-Za-z0-9._:-]; anything else is replaced (ids reach logs verbatim).
    static func sanitize(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.utf8.count <= 128 else { return nil }
        let ok = value.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E || $0 == 0x5F || $0 == 0x3A || $0 == 0x2D
        }
        return ok ? value : nil
    }
}

enum HTTPResponses {
    static func json(_ bytes: [UInt8], status: Int = 200) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.contentLength] = String(bytes.count)
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func openAIError(_ error: ClientError) -> Response {
        var response = json(error.openAIBody, status: error.status)
        if let seconds = error.retryAfterSeconds { response.headers[.retryAfter] = String(seconds) }
        return response
    }
}
