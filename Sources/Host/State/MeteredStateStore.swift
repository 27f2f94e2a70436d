import Prometheus

/// Counts every state-service call by outcome (`mix2api_state_operations_total{op,result}`) around
/// any backend, so memory and Redis are measured alike. `mix2api_state_degraded` is read from
/// `degradedReason` when /metrics is scraped.
public final class MeteredStateStore: StateStore, Sendable {
    public let inner: any StateStore
    private let getHit, getMiss, getError, setOK, setError, deleteOK, deleteError, lockOK, lockBusy, lockError, unlockOK, unlockError: Counter

    public init(_ inner: any StateStore, metrics: HostMetrics = .shared) {
        self.inner = inner
        func c(_ op: StateOperation, _ result: StateOperation.Result) -> Counter { metrics.stateOperation(op, result) }
        getHit = c(.get, .hit)
        getMiss = c(.get, .miss)
        getError = c(.get, .error)
        setOK = c(.set, .ok)
        setError = c(.set, .error)
        deleteOK = c(.delete, .ok)
        deleteError = c(.delete, .error)
        lockOK = c(.lock, .ok)
        lockBusy = c(.lock, .busy)
        lockError = c(.lock, .error)
        unlockOK = c(.unlock, .ok)
        unlockError = c(.unlock, .error)
    }

    public func get(_ key: String) -> Result<String?, StateStoreError> {
        let r = inner.get(key)
        switch r {
        case .success(.some): getHit.increment()
        case .success(.none): getMiss.increment()
        case .failure: getError.increment()
        }
        return r
    }

    public func set(_ key: String, _ value: String, ttlMilliseconds: UInt64) -> Bool {
        let ok = inner.set(key, value, ttlMilliseconds: ttlMilliseconds)
        (ok ? setOK : setError).increment()
        return ok
    }

    public func delete(_ key: String) -> Bool {
        let ok = inner.delete(key)
        (ok ? deleteOK : deleteError).increment()
        return ok
    }

    public func lock(_ key: String, ttlMilliseconds: UInt64) -> Result<String?, StateStoreError> {
        let r = inner.lock(key, ttlMilliseconds: ttlMilliseconds)
        switch r {
        case .success(.some): lockOK.increment()
        case .success(.none): lockBusy.increment()
        case .failure: lockError.increment()
        }
        return r
    }

    public func unlock(_ key: String, token: String) -> Bool {
        let ok = inner.unlock(key, token: token)
        (ok ? unlockOK : unlockError).increment()
        return ok
    }

    public var degradedReason: String? { inner.degradedReason }
    public var neverBlocks: Bool { inner.neverBlocks }
}
