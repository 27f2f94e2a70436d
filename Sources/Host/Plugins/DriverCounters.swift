import NIOConcurrencyHelpers
import Prometheus

/// Counters a driver keeps through `counter_add`, exported as `mix2api_driver_<name>_total{driver}`.
/// Names are checked and capped so a driver cannot create unbounded metric series.
final class DriverCounters: @unchecked Sendable {
    static let maxNames = 64
    /// Names whose series the host itself exports under `mix2api_driver_…`.
    static let reserved: Set<String> = ["events"]
    let driver: String
    private let metrics: HostMetrics
    private let values = NIOLockedValueBox<[String: (total: UInt64, series: Counter)]>([:])

    init(driver: String, metrics: HostMetrics = .shared) {
        self.driver = driver
        self.metrics = metrics
    }

    func add(_ name: String, _ delta: UInt64) {
        guard DriverCounters.isValid(name) else { return }
        values.withLockedValue { v in
            if v[name] == nil {
                if v.count >= DriverCounters.maxNames { return }
                v[name] = (0, metrics.driverCounter(driver: driver, name: name))
            }
            v[name]!.total &+= delta
            v[name]!.series.increment(by: Int64(clamping: delta))
        }
    }

    var snapshot: [String: UInt64] { values.withLockedValue { $0.mapValues(\.total) } }

    static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && !reserved.contains(name)
            && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }
}
