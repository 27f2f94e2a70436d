import CurlShims
import Foundation

/// All of the driver's HTTP on one thread: libcurl's multi interface drives every transfer, so a
/// thousand concurrent streams need one thread, not a thousand. Other threads hand work over
/// through a locked queue and wake the loop through an eventfd.
///
/// Event-driven (curl's multi_socket API over epoll): a wake-up costs only the sockets that are
/// ready, not every transfer. With `curl_multi_perform` + `curl_multi_poll` each of thousands of
/// chunks a second polled and checked all running transfers (README "Performance").
final class CurlEngine: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    private let epoll: Int32
    private let wake: Int32
    /// When curl wants `socket_action(TIMEOUT)` next (engine thread only; nil: no timer).
    private var curlDeadlineNs: UInt64?
    private var lastSweepNs: UInt64 = 0
    private let lock = NSLock()
    private var incoming: [HTTPTransfer] = []
    private var cancelling: [ObjectIdentifier] = []
    private var running: [ObjectIdentifier: HTTPTransfer] = [:]  // engine thread only
    private var stopped = false
    private var thread: Thread?

    /// The engine thread's name as the OS shows it (`/proc/<pid>/task/<tid>/comm`).
    static let threadName = "site-curl"

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    init(maxConnectionsPerHost: Int = 0) {
        _ = Self.globalInit
        multi = curl_multi_init()!
        epoll = m2a_epoll_create()
        wake = m2a_eventfd_create()
        _ = m2a_epoll_watch(epoll, wake, 1, 0)
        if maxConnectionsPerHost > 0 { _ = m2a_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnectionsPerHost) }
        let me = Unmanaged.passUnretained(self).toOpaque()
        _ = m2a_curl_multi_setopt_socketfunction(multi, CurlEngine.socketCallback)
        _ = m2a_curl_multi_setopt_ptr(multi, CURLMOPT_SOCKETDATA, me)
        _ = m2a_curl_multi_setopt_timerfunction(multi, CurlEngine.timerCallback)
        _ = m2a_curl_multi_setopt_ptr(multi, CURLMOPT_TIMERDATA, me)
        let t = Thread { [unowned self] in
            // Named from inside: on Linux, Foundation's `Thread.name` set before `start` never
            // reaches the OS thread, and `top -H` or `perf` should show which thread this is.
            // (15 characters at most.)
            _ = m2a_name_current_thread(Self.threadName)
            self.loop()
        }
        thread = t
        t.start()
    }

    /// Runs `transfer`; its callbacks come on the engine thread.
    func submit(_ transfer: HTTPTransfer) {
        lock.withLock { incoming.append(transfer) }
        m2a_eventfd_signal(wake)
    }

    /// Stops `transfer` as soon as the loop sees it; its `onEnd(.cancelled)` still comes.
    func cancel(_ transfer: HTTPTransfer) {
        lock.withLock { cancelling.append(ObjectIdentifier(transfer)) }
        m2a_eventfd_signal(wake)
    }

    /// Ends the loop (running transfers end as cancelled). Used when the driver is destroyed.
    func shutdown() {
        lock.withLock { stopped = true }
        m2a_eventfd_signal(wake)
    }

    private func loop() {
        var stillRunning: Int32 = 0
        var fds = [Int32](repeating: 0, count: 256)
        var masks = [Int32](repeating: 0, count: 256)
        while true {
            let (add, cancel, stop) = lock.withLock { () -> ([HTTPTransfer], [ObjectIdentifier], Bool) in
                defer {
                    incoming.removeAll()
                    cancelling.removeAll()
                }
                return (incoming, cancelling, stopped)
            }
            for t in add { start(t) }
            for id in cancel { if let t = running[id] { finish(t, .cancelled) } }
            if stop {
                for t in Array(running.values) { finish(t, .cancelled) }
                curl_multi_cleanup(multi)
                close(epoll)
                close(wake)
                return
            }
            // Wake at least every 100 ms so the idle and first-byte clocks are checked.
            var timeoutMs: Int32 = 100
            if let deadline = curlDeadlineNs {
                let now = DispatchTime.now().uptimeNanoseconds
                timeoutMs = deadline <= now ? 0 : Int32(min(100, (deadline - now + 999_999) / 1_000_000))
            }
            let ready = fds.withUnsafeMutableBufferPointer { f in
                masks.withUnsafeMutableBufferPointer { m in m2a_epoll_wait(epoll, f.baseAddress, m.baseAddress, Int32(f.count), timeoutMs) }
            }
            for i in 0..<Int(max(0, ready)) {
                if fds[i] == wake {
                    m2a_eventfd_drain(wake)
                    continue
                }
                _ = m2a_curl_multi_socket_action(multi, fds[i], masks[i], &stillRunning)
            }
            if let deadline = curlDeadlineNs, deadline <= DispatchTime.now().uptimeNanoseconds {
                curlDeadlineNs = nil
                _ = m2a_curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &stillRunning)
            }
            collectCompleted()
            let now = DispatchTime.now().uptimeNanoseconds
            if now - lastSweepNs >= 100_000_000 {
                lastSweepNs = now
                enforceTimeouts()
            }
        }
    }

    private func start(_ t: HTTPTransfer) {
        guard let easy = curl_easy_init() else {
            t.onEnd(.failed("could not create an HTTP handle"))
            return
        }
        t.easy = easy
        let r = t.request
        _ = m2a_curl_setopt_str(easy, CURLOPT_URL, r.url)
        _ = m2a_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = m2a_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, r.connectTimeoutMs)
        _ = m2a_curl_setopt_long(easy, CURLOPT_TIMEOUT_MS, r.totalTimeoutMs)
        _ = m2a_curl_setopt_long(easy, CURLOPT_FORBID_REUSE, r.keepAlive ? 0 : 1)
        _ = m2a_curl_setopt_long(easy, CURLOPT_TCP_NODELAY, 1)
        // The site's frames are small: a 4 KiB receive buffer instead of curl's 16 KiB (one per
        // transfer). 16 -> 8 KiB measured about 3 KiB less per stream at 2,000 streams; 8 -> 4 KiB
        // 1.1 KiB less at 5,000 (heaptrack: 3.2 KiB less heap per transfer). A backlog of frames
        // costs a few more reads, not a stall.
        _ = m2a_curl_setopt_long(easy, CURLOPT_BUFFERSIZE, 4096)
        _ = m2a_curl_setopt_str(easy, CURLOPT_ACCEPT_ENCODING, "")  // accept gzip, and decode it
        if r.method == "GET" {
            _ = m2a_curl_setopt_long(easy, CURLOPT_HTTPGET, 1)
        } else {
            _ = m2a_curl_setopt_str(easy, CURLOPT_CUSTOMREQUEST, r.method)
            _ = m2a_curl_setopt_long(easy, CURLOPT_POSTFIELDSIZE, r.body.count)
            r.body.withUnsafeBytes { raw in
                // COPYPOSTFIELDS copies, so the body need not outlive this call.
                _ = m2a_curl_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
            }
        }
        var list: UnsafeMutablePointer<curl_slist>?
        // Never let curl add "Expect: 100-continue" for larger bodies: one round trip less.
        for line in r.headers.map({ "\($0.0): \($0.1)" }) + ["Expect:"] { list = curl_slist_append(list, line) }
        t.headerList = list
        if !r.resolvePins.isEmpty {
            var pins: UnsafeMutablePointer<curl_slist>?
            for pin in r.resolvePins { pins = curl_slist_append(pins, pin) }
            t.resolveList = pins
            _ = m2a_curl_setopt_ptr(easy, CURLOPT_RESOLVE, UnsafeMutableRawPointer(pins))
        }
        _ = m2a_curl_setopt_ptr(easy, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(list))
        let me = Unmanaged.passUnretained(t).toOpaque()
        _ = m2a_curl_setopt_write(easy, CurlEngine.writeCallback)
        _ = m2a_curl_setopt_ptr(easy, CURLOPT_WRITEDATA, me)
        _ = m2a_curl_setopt_header(easy, CurlEngine.headerCallback)
        _ = m2a_curl_setopt_ptr(easy, CURLOPT_HEADERDATA, me)
        _ = m2a_curl_setopt_ptr(easy, CURLOPT_PRIVATE, me)
        t.startedAtNs = DispatchTime.now().uptimeNanoseconds
        t.lastByteAtNs = t.startedAtNs
        running[ObjectIdentifier(t)] = t
        curl_multi_add_handle(multi, easy)
    }

    private func collectCompleted() {
        var left: Int32 = 0
        while let msg = curl_multi_info_read(multi, &left) {
            guard msg.pointee.msg == CURLMSG_DONE, let easy = msg.pointee.easy_handle else { continue }
            var p: UnsafeMutableRawPointer?
            _ = m2a_curl_getinfo_ptr(easy, CURLINFO_PRIVATE, &p)
            guard let p else { continue }
            let t = Unmanaged<HTTPTransfer>.fromOpaque(p).takeUnretainedValue()
            let code = msg.pointee.data.result
            if let reason = t.stopReason {
                finish(t, reason)
            } else if code == CURLE_OK {
                t.deliverResponseIfNeeded()
                finish(t, .completed)
            } else if code == CURLE_OPERATION_TIMEDOUT {
                finish(t, .timedOut("the site did not answer in time (\(String(cString: curl_easy_strerror(code))))"))
            } else {
                finish(t, .failed(String(cString: curl_easy_strerror(code))))
            }
        }
    }

    private func enforceTimeouts() {
        let now = DispatchTime.now().uptimeNanoseconds
        for t in Array(running.values) {
            if !t.bodyStarted, now - t.startedAtNs > UInt64(t.request.firstByteTimeoutMs) * 1_000_000 {
                finish(t, .timedOut("the site sent no answer within \(t.request.firstByteTimeoutMs) ms"))
            } else if t.bodyStarted, now - t.lastByteAtNs > UInt64(t.request.idleTimeoutMs) * 1_000_000 {
                finish(t, .timedOut("the site went silent for \(t.request.idleTimeoutMs) ms mid-answer"))
            }
        }
    }

    private func finish(_ t: HTTPTransfer, _ end: HTTPTransfer.End) {
        guard running.removeValue(forKey: ObjectIdentifier(t)) != nil else { return }
        if let easy = t.easy {
            curl_multi_remove_handle(multi, easy)
            curl_easy_cleanup(easy)
        }
        if let list = t.headerList { curl_slist_free_all(list) }
        if let list = t.resolveList { curl_slist_free_all(list) }
        t.easy = nil
        t.headerList = nil
        t.resolveList = nil
        t.onEnd(end)
    }

    // MARK: libcurl callbacks (engine thread)

    /// curl says which sockets to watch for what (CURL_POLL_IN 1, OUT 2, INOUT 3, REMOVE 4).
    private static let socketCallback: @convention(c) (UnsafeMutableRawPointer?, Int32, Int32, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32 = {
        _, fd, what, user, _ in
        guard let user else { return -1 }
        let engine = Unmanaged<CurlEngine>.fromOpaque(user).takeUnretainedValue()
        let watchIn: Int32 = what == 1 || what == 3 ? 1 : 0
        let watchOut: Int32 = what == 2 || what == 3 ? 1 : 0
        _ = m2a_epoll_watch(engine.epoll, fd, watchIn, watchOut)
        return 0
    }

    /// curl's one timer: -1 none, 0 at once, else in that many milliseconds.
    private static let timerCallback: @convention(c) (UnsafeMutableRawPointer?, Int, UnsafeMutableRawPointer?) -> Int32 = { _, ms, user in
        guard let user else { return -1 }
        let engine = Unmanaged<CurlEngine>.fromOpaque(user).takeUnretainedValue()
        engine.curlDeadlineNs = ms < 0 ? nil : DispatchTime.now().uptimeNanoseconds + UInt64(ms) * 1_000_000
        return 0
    }

    private static let writeCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { data, size, count, user in
        guard let user else { return 0 }
        let t = Unmanaged<HTTPTransfer>.fromOpaque(user).takeUnretainedValue()
        let n = size * count
        t.lastByteAtNs = DispatchTime.now().uptimeNanoseconds
        t.bodyStarted = true
        t.deliverResponseIfNeeded()
        guard t.stopReason == nil else { return 0 }
        let keepGoing = t.onBody(UnsafeRawBufferPointer(start: data, count: n))
        if !keepGoing {
            t.stopReason = .cancelled
            return 0  // makes curl end the transfer with CURLE_WRITE_ERROR
        }
        return n
    }

    private static let headerCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { data, size, count, user in
        guard let user, let data else { return 0 }
        let t = Unmanaged<HTTPTransfer>.fromOpaque(user).takeUnretainedValue()
        let n = size * count
        t.headerLine(String(decoding: UnsafeRawBufferPointer(start: data, count: n), as: UTF8.self))
        // The blank line ends a head: the response is known now, before its body (a site that
        // thinks before its first byte shows as the gap up to the first delta).
        if n <= 2, data[0] == 13 || data[0] == 10 { t.deliverResponseIfNeeded() }
        return n
    }
}
