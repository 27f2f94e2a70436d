import CurlShims
import SiteProtocol

/// One HTTP request to the site, run by the CurlEngine. Its callbacks run on the engine's thread,
/// in order: `onResponse` once the status and headers are known (the head's blank line, before any
/// body), `onBody` for each piece of the body, then exactly one `onEnd`. A callback returning false
/// from `onBody` stops the transfer.
final class HTTPTransfer: @unchecked Sendable {
    struct Request {
        var method = "POST"
        var url: String
        var headers: [(String, String)] = []
        var body: [UInt8] = []
        var connectTimeoutMs = 10_000
        /// No byte of the body by then: a timeout (a site that sends its head and then thinks
        /// forever is as stuck as one that sends nothing).
        var firstByteTimeoutMs = 180_000
        /// No body bytes for this long once the answer started: a timeout.
        var idleTimeoutMs = 120_000
        var totalTimeoutMs = 1_800_000
        var keepAlive = true
        /// "host:port:address" entries that pin DNS (a checked dynamic base).
        var resolvePins: [String] = []
    }

    enum End: Equatable {
        case completed
        case cancelled
        case timedOut(String)
        case failed(String)  // connection-level: DNS, refused, reset, TLS
    }

    struct Response {
        var status: Int
        var headers: [String: String]  // lower-cased names, last value wins
    }

    let request: Request
    var onResponse: (Response) -> Void = { _ in }
    var onBody: (UnsafeRawBufferPointer) -> Bool = { _ in true }
    var onEnd: (End) -> Void = { _ in }

    // Engine-thread state.
    var easy: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    var resolveList: UnsafeMutablePointer<curl_slist>?
    var status = 0
    var headers: [String: String] = [:]
    var responseDelivered = false
    /// The first body byte came: from here on the idle clock runs, not the first-byte one.
    var bodyStarted = false
    var startedAtNs: UInt64 = 0
    var lastByteAtNs: UInt64 = 0
    var stopReason: End?

    init(_ request: Request) {
        self.request = request
    }

    /// Called by the header callback with each header line (status lines included).
    func headerLine(_ line: String) {
        switch HTTPHeaderLine(line) {
        case .status(let code):
            // A new response (after a 100-continue or a redirect): start over.
            status = code
            headers = [:]
        case .header(let name, let value):
            headers[name] = value
        case .other:
            break
        }
    }

    func deliverResponseIfNeeded() {
        guard !responseDelivered, status >= 200 else { return }
        responseDelivered = true
        onResponse(Response(status: status, headers: headers))
    }
}
