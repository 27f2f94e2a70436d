import Testing
@testable import Host

/// One event loop per CPU the process may run on, read from /proc/self/status.
@Suite struct EventLoopSizingTests {
    @Test func cpuLists() {
        #expect(EventLoopSizing.count(cpuList: "0") == 1)
        #expect(EventLoopSizing.count(cpuList: "1") == 1)
        #expect(EventLoopSizing.count(cpuList: "0-1") == 2)
        #expect(EventLoopSizing.count(cpuList: "0-3,8,10-11") == 7)
        #expect(EventLoopSizing.count(cpuList: "\t0-3 ") == 4)
        for bad in ["", "x", "3-1", "1-", "-1", "1-2-3", "0,,x"] {
            #expect(EventLoopSizing.count(cpuList: Substring(bad)) == nil, "\(bad)")
        }
    }

    @Test func procStatusLine() {
        let status = "Name:\tmix2api\nCpus_allowed:\t2\nCpus_allowed_list:\t1\nMems_allowed_list:\t0\n"
        #expect(EventLoopSizing.allowedCPUs(procStatus: status) == 1)
        #expect(EventLoopSizing.allowedCPUs(procStatus: "Name:\tx\n") == nil)
        // This process's own file has the line on Linux (the test runner is not pinned to zero CPUs).
        #if os(Linux)
        #expect((EventLoopSizing.readProcStatus().flatMap(EventLoopSizing.allowedCPUs(procStatus:)) ?? 0) >= 1)
        #endif
    }

    @Test func fewerLoopsOnlyWhenTheAffinityAllowsFewerCPUs() {
        #expect(EventLoopSizing.loopCount(allowed: 1, nioDefault: 2) == 1)
        #expect(EventLoopSizing.loopCount(allowed: 2, nioDefault: 2) == nil)
        // A cgroup limit NIO already applied is lower than the affinity: NIO's choice stays.
        #expect(EventLoopSizing.loopCount(allowed: 8, nioDefault: 2) == nil)
        #expect(EventLoopSizing.loopCount(allowed: 0, nioDefault: 2) == nil)
    }
}
