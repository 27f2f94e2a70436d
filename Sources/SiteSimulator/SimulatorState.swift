import Foundation
import JSONCore

/// Everything the simulator remembers: issued tokens, sessions and counters. Routes run on many
/// threads at once, so every access goes through one lock.
final class SimulatorState: @unchecked Sendable {
    /// How many chat request bodies /sim/stats keeps (the most recent).
    static let keptRequests = 100

    private let config: SimulatorConfig
    private let lock = NSLock()
    /// Issued token → when it stops being valid.
    private var tokens: [String: Date] = [:]
    private var logins = 0
    private var chats = 0
    /// Session id → turns so far; `sessionOrder[oldestSession...]` are the remembered ones in
    /// creation order (for /sim/stats and for forgetting the oldest first).
    private var sessions: [String: Int] = [:]
    private var sessionOrder: [String] = []
    private var oldestSession = 0
    /// Session id → the queries of its turns, oldest first: the history the site answers from.
    private var sessionQueries: [String: [String]] = [:]
    private var requests: [JSONValue] = []

    init(config: SimulatorConfig) {
        self.config = config
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    // MARK: tokens

    func countLogin() { locked { logins += 1 } }

    func issueToken(_ token: String, expires: Date) { locked { tokens[token] = expires } }

    /// A static token is always valid; an issued one until its expiry or /sim/expire-tokens.
    func isValid(token: String, now: Date = Date()) -> Bool {
        if config.staticTokens.contains(token) { return true }
        return locked { tokens[token].map { $0 > now } ?? false }
    }

    func expireAllTokens() { locked { tokens.removeAll() } }

    // MARK: chats and sessions

    /// Keeps the body as received (stats show what the driver really sent), bounded.
    func recordChat(_ body: JSONValue) {
        locked {
            chats += 1
            requests.append(body)
            if requests.count > Self.keptRequests { requests.removeFirst(requests.count - Self.keptRequests) }
        }
    }

    /// A new session at turn 1, remembering its first query.
    func startSession(query: String) -> String {
        let id = UUID().uuidString.lowercased()
        locked {
            sessions[id] = 1
            sessionOrder.append(id)
            sessionQueries[id] = [query]
            if sessions.count > config.maxSessions { forgetOldestSession() }
        }
        return id
    }

    /// Called with the lock held. The order list is compacted only now and then, so forgetting
    /// stays O(1) on average.
    private func forgetOldestSession() {
        let oldest = sessionOrder[oldestSession]
        oldestSession += 1
        sessions[oldest] = nil
        sessionQueries[oldest] = nil
        if oldestSession >= 4_096 && oldestSession * 2 >= sessionOrder.count {
            sessionOrder.removeFirst(oldestSession)
            oldestSession = 0
        }
    }

    /// The next turn number of a known session and the queries of its earlier turns (oldest
    /// first); nil when the session is unknown. `query` joins the session's history.
    func continueSession(_ id: String, query: String) -> (turn: Int, earlier: [String])? {
        locked {
            guard let turns = sessions[id] else { return nil }
            sessions[id] = turns + 1
            let earlier = sessionQueries[id] ?? []
            sessionQueries[id, default: []].append(query)
            return (turns + 1, earlier)
        }
    }

    // MARK: inspection

    func reset() {
        locked {
            tokens.removeAll()
            logins = 0
            chats = 0
            sessions.removeAll()
            sessionOrder.removeAll()
            oldestSession = 0
            sessionQueries.removeAll()
            requests.removeAll()
        }
    }

    func stats() -> JSONValue {
        locked {
            let sessionTurns = JSONObject(sessionOrder[oldestSession...].map { ($0, JSONValue(integerLiteral: sessions[$0] ?? 0)) })
            return .object(JSONObject([
                ("logins", JSONValue(integerLiteral: logins)),
                ("chats", JSONValue(integerLiteral: chats)),
                ("sessions", .object(sessionTurns)),
                ("requests", .array(requests)),
            ]))
        }
    }
}
