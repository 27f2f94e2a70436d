import DriverKit
import Foundation
import JSONCore
import SiteProtocol

/// What every stream of one driver instance shares: configuration, the curl engine, the site
/// identity, the session map and the worker queue that does the blocking parts (state calls,
/// logins) off the host's threads and off the curl thread.
final class SiteDriverCore: @unchecked Sendable {
    let config: SiteConfig
    let host: HostServices
    let engine: CurlEngine
    let auth: SiteAuth
    let sessions: SiteSessions
    let dynamicBase: DynamicBase
    let profiles: ModelProfiles
    let worker = DispatchQueue(label: "site-driver-worker", attributes: .concurrent)

    init(config: SiteConfig, host: HostServices) throws {
        self.config = config
        self.host = host
        engine = CurlEngine()
        auth = SiteAuth(config: config, host: host, engine: engine)
        sessions = SiteSessions(host: host, ttlMs: config.sessionTTLMs)
        dynamicBase = DynamicBase(enabled: config.dynamicBaseEnabled, allowlist: config.baseAllowlist, allowHTTP: config.baseAllowHTTP, allowPrivate: config.baseAllowPrivate)
        do {
            profiles = try ModelProfiles.parse(
                json: config.modelProfilesJSON,
                defaults: ModelProfile(
                    contextWindow: config.defaultContextWindow, maxInputTokens: config.defaultMaxInputTokens, maxNewTokens: config.defaultMaxNewTokens))
        } catch {
            throw DriverConfigError(field: "model_profile_json", "\(error)")
        }
    }

    /// Nothing in a stream's first attempt can block: no login (auth mode other than managed), no
    /// name to resolve (no per-request upstream base URL), and the host's state in its memory. The
    /// attempt may then run inside `start` (see `SiteDriver.start`).
    func firstAttemptNeverBlocks(_ context: SiteRequestContext) -> Bool {
        auth.neverBlocks && context.upstreamBaseURL == nil && host.stateNeverBlocks
    }

    func requestOptions(model: String, personaID: String?) -> SiteRequestOptions {
        var o = SiteRequestOptions(profile: profiles.profile(for: model), reservedOutputTokens: config.reservedOutputTokens)
        o.agentSlug = config.agentSlug
        o.localeLocation = config.localeLocation
        o.localeLanguage = config.localeLanguage
        o.personaID = personaID ?? config.personaID
        o.modes = config.modes
        return o
    }

    func chatHeaders(stream: Bool, token: String?, requestID: String) -> [(String, String)] {
        var h: [(String, String)] = [
            ("Accept", stream ? "text/event-stream" : "application/json"),
            ("Content-Type", "application/json"),
            ("Cache-Control", "no-cache"),
            ("Accept-Language", config.acceptLanguage),
        ]
        if let token { h.append(("Authorization", "Bearer \(token)")) }
        if let referer = config.referer { h.append(("Referer", referer)) }
        if !requestID.isEmpty { h.append(("X-Request-Id", requestID)) }
        return h
    }
}

extension SiteConfig {
    var chatPathWithSlash: String { chatPath.hasPrefix("/") ? chatPath : "/" + chatPath }
}
