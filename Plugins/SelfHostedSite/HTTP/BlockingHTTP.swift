import Foundation

extension CurlEngine {
    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    /// One small request answered in full (logins). Blocks the calling thread: never call it on
    /// the engine thread or from the ABI's start/cancel.
    func perform(_ request: HTTPTransfer.Request, maxBodyBytes: Int = 1 << 20) -> Result<Reply, SiteTransportError> {
        let transfer = HTTPTransfer(request)
        let done = DispatchSemaphore(value: 0)
        var reply = Reply(status: 0, headers: [:], body: [])
        var outcome: Result<Reply, SiteTransportError> = .failure(.failed("no answer"))
        transfer.onResponse = { reply.status = $0.status; reply.headers = $0.headers }
        transfer.onBody = { bytes in
            guard reply.body.count + bytes.count <= maxBodyBytes else { return false }
            reply.body += bytes
            return true
        }
        transfer.onEnd = { end in
            switch end {
            case .completed: outcome = .success(reply)
            case .cancelled: outcome = .failure(.failed(reply.body.count >= maxBodyBytes ? "the answer was larger than \(maxBodyBytes) bytes" : "cancelled"))
            case .timedOut(let why): outcome = .failure(.timedOut(why))
            case .failed(let why): outcome = .failure(.failed(why))
            }
            done.signal()
        }
        submit(transfer)
        done.wait()
        return outcome
    }
}

enum SiteTransportError: Error {
    case timedOut(String)
    case failed(String)
}
