import Foundation
import NIOCore

/// How many event loops the server runs: one per CPU this process may run on.
///
/// Why: NIO sizes its loops by the machine's cores and the cgroup's limits, but not by the
/// process's CPU affinity (`taskset`, `numactl`, systemd's `CPUAffinity=`). Pinned to one CPU of
/// two, mix2api ran two loops that took turns on that CPU, so a request's first token could wait
/// out the other loop's time slice (README "Performance"). NIO's own override,
/// `NIO_SINGLETON_GROUP_LOOP_COUNT`, wins when it is set.
public enum EventLoopSizing {
    /// The loop count for this process, or nil to keep NIO's choice. Call once, before anything
    /// starts an event loop (NIO refuses a later change).
    @discardableResult
    public static func applyAffinity(environment: [String: String], procStatus: String? = readProcStatus()) -> Int? {
        guard environment["NIO_SINGLETON_GROUP_LOOP_COUNT"] == nil,
            let allowed = procStatus.flatMap(allowedCPUs(procStatus:)),
            let loops = loopCount(allowed: allowed, nioDefault: System.coreCount)
        else { return nil }
        NIOSingletons.groupLoopCountSuggestion = loops
        return loops
    }

    /// Fewer loops only when the affinity allows fewer CPUs than NIO would use.
    static func loopCount(allowed: Int, nioDefault: Int) -> Int? {
        allowed >= 1 && allowed < nioDefault ? allowed : nil
    }

    /// The CPUs in `/proc/self/status`'s "Cpus_allowed_list" line; nil when it is missing or unreadable.
    static func allowedCPUs(procStatus: String) -> Int? {
        for line in procStatus.split(separator: "\n") where line.hasPrefix("Cpus_allowed_list:") {
            return count(cpuList: line.dropFirst("Cpus_allowed_list:".count))
        }
        return nil
    }

    /// The CPUs in a Linux CPU list such as "0-3,8,10-11"; nil when it is not one.
    static func count(cpuList: Substring) -> Int? {
        var total = 0
        for part in cpuList.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
                .map { Int($0.trimmingCharacters(in: .whitespaces)) }
            switch bounds.count {
            case 1:
                guard bounds[0] != nil else { return nil }
                total += 1
            case 2:
                guard let low = bounds[0], let high = bounds[1], low <= high else { return nil }
                total += high - low + 1
            default:
                return nil
            }
        }
        return total > 0 ? total : nil
    }

    public static func readProcStatus() -> String? {
        try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)
    }
}
