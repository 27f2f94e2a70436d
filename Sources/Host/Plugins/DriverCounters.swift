import NIOConcurrencyHelpers

/// Counters a driver keeps through `counter_add`. Names are checked and capped so a driver cannot
/// create unbounded metric series.
final class DriverCounters: @unchecked Sendable {
    static let maxNames = 64
    let driver: String
    private let values = NIOLockedValueBox<[String: UInt64]>([:])

    init(driver: String) {
        self.driver = driver
    }

    func add(_ name: String, _ delta: UInt64) {
        guard DriverCounters.isValid(name) else { return }
        values.withLockedValue { v in
            if v[name] == nil, v.count >= DriverCounters.maxNames { return }
            v[name, default: 0] &+= delta
        }
    }

    var snapshot: [String: UInt64] { values.withLockedValue { $0 } }

    static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64
            && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }
}
