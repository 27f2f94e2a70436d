import HTTPTypes
import Hummingbird
import JSONCore

/// Small builders for the fixed-body answers the site gives.
enum HTTPReplies {
    static let uiMessageStreamHeader = HTTPField.Name("x-vercel-ai-ui-message-stream")!
    static let retryAfter = HTTPField.Name("Retry-After")!

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, extra: HTTPFields = [:]) -> Response {
        var out: [UInt8] = []
        JSONWriter.append(value, to: &out)
        out.append(UInt8(ascii: "\n"))
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: out)))
    }

    /// The site's error shape: `{"error":{"message":...}}`.
    static func error(_ status: HTTPResponse.Status, _ message: String, extra: HTTPFields = [:]) -> Response {
        json(["error": ["message": .string(message)]], status: status, extra: extra)
    }

    static func text(_ body: String, status: HTTPResponse.Status, contentType: String) -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// The request body, at most `limit` bytes; nil when it cannot be read or is too large.
    static func readBody(_ request: Request, limit: Int = 16 << 20) async -> [UInt8]? {
        guard var buffer = try? await request.body.collect(upTo: limit) else { return nil }
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    /// The body as JSON, or nil when it is not JSON.
    static func parseJSON(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONParser.parse(bytes)
    }
}
