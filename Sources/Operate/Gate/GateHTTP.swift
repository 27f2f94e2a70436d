import AsyncHTTPClient
import Foundation
import JSONCore
import NIOCore
import NIOHTTP1

/// The gate's HTTP: raw bytes in, raw bytes out (no decompression, no retries), with the caller's
/// key as a bearer token, and ways to stop reading part-way (the abort packs).
struct GateHTTP: Sendable {
    struct Reply: Sendable {
        var status: Int
        var headers: StreamContract.Headers
        var body: [UInt8]
        /// Reading stopped on purpose before the end (abort, client timeout).
        var stoppedEarly = false
        /// The client-side deadline ended the reading.
        var timedOut = false

        func header(_ name: String) -> String? { headers.first { $0.name == name.lowercased() }?.value }
        var requestID: String? { header("x-request-id") ?? header("x-oneapi-request-id") }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let chatURL: String
    let key: String
    let timeout: TimeAmount
    private let client = HTTPClient.shared

    /// `base` may end in `/v1` (OpenAI style) or be the server's root.
    init(baseURL: String, key: String, timeoutSeconds: Int) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        chatURL = base.hasSuffix("/v1") ? base + "/chat/completions" : base + "/v1/chat/completions"
        self.key = key
        timeout = .seconds(Int64(timeoutSeconds))
    }

    /// POSTs a chat request and reads the answer until `stop` says enough (given the bytes so far),
    /// the client deadline `giveUpAfter` passes, or the body ends.
    func chat(_ body: JSONValue, requestID: String, giveUpAfter: Duration? = nil, stop: (@Sendable ([UInt8]) -> Bool)? = nil) async throws(Failure) -> Reply {
        var request = HTTPClientRequest(url: chatURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "X-Request-Id", value: requestID)
        request.headers.add(name: "User-Agent", value: "mix2api-gate")
        var bytes: [UInt8] = []
        JSONWriter.append(body, to: &bytes)
        request.body = .bytes(ByteBuffer(bytes: bytes))
        return try await send(request, giveUpAfter: giveUpAfter, stop: stop)
    }

    func get(_ url: String) async throws(Failure) -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        return try await send(request, giveUpAfter: nil, stop: nil)
    }

    private func send(_ request: HTTPClientRequest, giveUpAfter: Duration?, stop: (@Sendable ([UInt8]) -> Bool)?) async throws(Failure) -> Reply {
        let timeout = self.timeout
        let client = self.client
        let progress = Progress()
        let read: @Sendable () async throws -> Bool = {
            let response = try await client.execute(request, timeout: timeout)
            progress.update { $0.status = Int(response.status.code); $0.headers = response.headers.map { ($0.name.lowercased(), $0.value) } }
            // Leaving this loop early drops the body stream, which closes the connection: to the
            // server, exactly a client that went away.
            for try await buffer in response.body {
                let enough = progress.update { reply -> Bool in
                    reply.body += buffer.readableBytesView
                    return stop?(reply.body) ?? false
                }
                if enough {
                    progress.update { $0.stoppedEarly = true }
                    break
                }
            }
            return true
        }
        // Without a deadline of the caller's, --timeout caps the whole answer, body included
        // (the client's own deadline only covers the wait for the response head).
        let giveUpAfter = giveUpAfter ?? .seconds(Int64(timeout.nanoseconds / 1_000_000_000))
        do {
            let finished = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask { try await read() }
                group.addTask {
                    try await Task.sleep(for: giveUpAfter)
                    return false
                }
                // The first to end wins; cancelling a reader still streaming cancels the request.
                defer { group.cancelAll() }
                return try await group.next() ?? false
            }
            if !finished { progress.update { $0.stoppedEarly = true; $0.timedOut = true } }
            return progress.reply
        } catch {
            throw Failure(description: "\(request.method.rawValue) \(request.url): \(error)")
        }
    }

    /// What arrived so far, shared by the reader and the deadline.
    private final class Progress: @unchecked Sendable {
        private let lock = NSLock()
        private var value = Reply(status: 0, headers: [], body: [])

        func update<T>(_ change: (inout Reply) -> T) -> T { lock.withLock { change(&value) } }
        var reply: Reply { lock.withLock { value } }
    }
}
