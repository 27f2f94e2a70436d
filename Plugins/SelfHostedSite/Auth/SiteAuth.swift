import Digest
import DriverKit
import Foundation
import JSONCore
import PluginABI
import SiteProtocol

/// Where the site token comes from. In managed mode the driver logs in itself: one login at a
/// time per account in this process (waiters share its result), and across instances through the
/// host's state lock, so a hundred concurrent first requests cause exactly one login. Tokens are
/// kept in the shared state (stable and canary share them) and never logged.
final class SiteAuth: @unchecked Sendable {
    struct Failure: Error {
        var kind: SiteFailureKind
        var message: String
    }

    private let config: SiteConfig
    private let host: HostServices
    private let engine: CurlEngine
    private let accountKey: String
    private let condition = NSCondition()
    private var cached: (token: String, expiresAtMs: Int64?)?
    private var loggingIn = false

    init(config: SiteConfig, host: HostServices, engine: CurlEngine) {
        self.config = config
        self.host = host
        self.engine = engine
        // One account per login endpoint + credentials; the key holds a digest, not the body.
        accountKey = "token:" + String(SHA256.hex(Array((config.loginURL + "\u{1}" + config.tokenBody).utf8)).prefix(24))
    }

    /// The token for one request (nil: send no Authorization). `rejected` is a token the site just
    /// refused: a newer one is used, or fetched. Blocks; call on a worker thread.
    /// `token` answers without I/O: only managed mode may log in.
    var neverBlocks: Bool { config.authMode != .managed }

    func token(inbound: String?, rejected: String? = nil) throws(Failure) -> String? {
        switch config.authMode {
        case .none: return nil
        case .static: return config.staticToken
        case .passThrough:
            guard let inbound, !inbound.isEmpty else { throw Failure(kind: .upstreamAuth, message: "pass-through auth needs the caller's bearer token, and none was sent") }
            return inbound
        case .managed: return try managedToken(rejected: rejected)
        }
    }

    private func isFresh(_ t: (token: String, expiresAtMs: Int64?)) -> Bool {
        guard let expiry = t.expiresAtMs else { return true }
        return host.wallMilliseconds + Int64(config.expirySkewMs) < expiry
    }

    private func managedToken(rejected: String?) throws(Failure) -> String {
        condition.lock()
        while true {
            if let c = cached, c.token != rejected, isFresh(c) {
                condition.unlock()
                return c.token
            }
            if !loggingIn { break }
            condition.wait()
        }
        loggingIn = true
        condition.unlock()

        let result: Result<(token: String, expiresAtMs: Int64?), Failure>
        do { result = .success(try sharedOrNewToken(rejected: rejected)) } catch { result = .failure(error) }

        condition.lock()
        loggingIn = false
        if case .success(let t) = result { cached = t }
        condition.broadcast()
        condition.unlock()
        return try result.get().token
    }

    /// Another instance may have logged in already; else take the cross-instance lock and log in.
    private func sharedOrNewToken(rejected: String?) throws(Failure) -> (token: String, expiresAtMs: Int64?) {
        let deadline = host.wallMilliseconds + Int64(config.tokenTimeoutMs) * 2
        while true {
            if let shared = readShared(), shared.token != rejected, isFresh(shared) { return shared }
            let lockKey = "login:" + accountKey
            let holder: String?
            do { holder = try host.stateLock(lockKey, ttlMilliseconds: UInt64(config.tokenTimeoutMs) * 2) } catch {
                holder = ""  // the store is down: log in without it rather than fail the request
            }
            if let holder {
                defer { if !holder.isEmpty { try? host.stateUnlock(lockKey, token: holder) } }
                // Re-check: the previous holder may have stored a token between our read and lock.
                if let shared = readShared(), shared.token != rejected, isFresh(shared) { return shared }
                let fresh = try login()
                writeShared(fresh)
                return fresh
            }
            guard host.wallMilliseconds < deadline else {
                throw Failure(kind: .upstreamAuth, message: "another instance is logging in to the site and has not finished in time")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    private func readShared() -> (token: String, expiresAtMs: Int64?)? {
        guard let text = try? host.stateGet(accountKey), let value = try? JSONParser.parse(text) else { return nil }
        guard value["schemaVersion"]?.intValue == 1, let token = value["token"]?.stringValue, !token.isEmpty else {
            host.log(M2A_LOG_WARN, "ignoring a stored site token entry with an unknown schema")
            return nil
        }
        return (token, value["expiresAtMs"]?.intValue.map(Int64.init))
    }

    private func writeShared(_ t: (token: String, expiresAtMs: Int64?)) {
        var o = JSONObject([("schemaVersion", 1), ("token", .string(t.token))])
        if let e = t.expiresAtMs { o["expiresAtMs"] = .number(String(e)) }
        let ttl = t.expiresAtMs.map { max(1000, $0 - host.wallMilliseconds) } ?? 3_600_000
        try? host.stateSet(accountKey, JSONValue.object(o).serialized, ttlMilliseconds: UInt64(ttl))
    }

    private func login() throws(Failure) -> (token: String, expiresAtMs: Int64?) {
        host.counterAdd("site_logins")
        var request = HTTPTransfer.Request(url: config.loginURL)
        request.method = config.tokenMethod
        request.headers = [("Content-Type", "application/json"), ("Accept", "application/json")] + config.tokenHeaders
        if config.tokenMethod != "GET" { request.body = Array(config.tokenBody.utf8) }
        request.connectTimeoutMs = min(config.connectTimeoutMs, config.tokenTimeoutMs)
        request.firstByteTimeoutMs = config.tokenTimeoutMs
        request.totalTimeoutMs = config.tokenTimeoutMs
        request.idleTimeoutMs = config.tokenTimeoutMs
        switch engine.perform(request) {
        case .failure(.timedOut(let why)), .failure(.failed(let why)):
            host.counterAdd("site_login_failures")
            throw Failure(kind: .upstreamAuth, message: "site login failed: \(why)")
        case .success(let reply) where !(200..<300).contains(reply.status):
            host.counterAdd("site_login_failures")
            throw Failure(kind: .upstreamAuth, message: "site login was refused with HTTP \(reply.status)")
        case .success(let reply):
            do {
                let answer = try TokenAnswer.parse(body: reply.body, tokenField: config.tokenField, expiresInField: config.expiresInField, nowMs: host.wallMilliseconds)
                host.log(M2A_LOG_INFO, "logged in to the site" + (answer.expiresAtMs.map { "; token valid for \(($0 - host.wallMilliseconds) / 1000) s" } ?? ""))
                return (answer.token, answer.expiresAtMs)
            } catch {
                host.counterAdd("site_login_failures")
                throw Failure(kind: .upstreamAuth, message: "site login answer unusable: \(error)")
            }
        }
    }
}
