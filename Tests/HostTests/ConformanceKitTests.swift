import Foundation
import NIOConcurrencyHelpers
import PluginABI
import Testing
@testable import Host

/// The ABI conformance kit: loads a driver library as the host does and checks the rules of
/// Sources/PluginABI/README.md. Runs on the Swift mock driver and on the plain-C fixture.
@Suite struct ConformanceKitTests {
    struct Subject: CustomStringConvertible, Sendable {
        let path: String
        let config: String
        let request: [UInt8]
        let badConfig: String
        var description: String { (path as NSString).lastPathComponent }
    }

    static let subjects = [
        Subject(
            path: BuildProducts.mockDriver, config: #"{"delta_delay_ms": 1, "long_deltas": 400}"#,
            request: DriverHarness.request(model: "mock-long"), badConfig: #"{"delta_delay_ms": "soon"}"#),
        Subject(path: BuildProducts.cDriver, config: #"{"deltas": 400, "delay_us": 1000}"#, request: Array("{}".utf8), badConfig: #"{"fail": true}"#),
    ]

    @Test(arguments: subjects)
    func refusesAnotherMajorVersion(_ s: Subject) throws {
        let handle = try #require(dlopen(s.path, RTLD_NOW | RTLD_LOCAL))
        let symbol = try #require(dlsym(handle, M2A_DRIVER_ENTRY_SYMBOL))
        let entry = unsafeBitCast(symbol, to: m2a_driver_entry_fn.self)
        var message = [CChar](repeating: 0, count: 256)
        let refused = message.withUnsafeMutableBufferPointer { entry(M2A_ABI_VERSION_MAJOR + 1, 0, m2a_errbuf(ptr: $0.baseAddress, cap: $0.count)) }
        #expect(refused == nil)
        let why = String(cString: message)
        #expect(why.contains("\(M2A_ABI_VERSION_MAJOR + 1).0"), "message names the host version: \(why)")
        #expect(why.contains("\(M2A_ABI_VERSION_MAJOR).\(M2A_ABI_VERSION_MINOR)"), "message names the driver version: \(why)")
        let accepted = message.withUnsafeMutableBufferPointer { entry(M2A_ABI_VERSION_MAJOR, M2A_ABI_VERSION_MINOR, m2a_errbuf(ptr: $0.baseAddress, cap: $0.count)) }
        let table = try #require(accepted)
        #expect(table.pointee.abi_major == M2A_ABI_VERSION_MAJOR)
        #expect(table.pointee.struct_size >= UInt32(MemoryLayout<m2a_driver_api>.size))
    }

    @Test(arguments: subjects)
    func rejectedConfigNamesTheField(_ s: Subject) throws {
        #expect(throws: PluginLoadError.self) { try DriverHarness.load(s.path, name: "x", config: s.badConfig) }
        do {
            _ = try DriverHarness.load(s.path, name: "x", config: s.badConfig)
        } catch let error as PluginLoadError {
            #expect(error.field == "drivers.x.config")
            let field = s.badConfig.contains("fail") ? "fail" : "delta_delay_ms"
            #expect(error.problem.contains(field), "\(error)")
        }
    }

    /// Many streams, each cancelled at a random moment (or never) from a random thread:
    /// every stream gets exactly one terminal event and nothing is left behind.
    @Test(arguments: subjects)
    func exactlyOneTerminalUnderRandomCancels(_ s: Subject) async throws {
        let driver = try DriverHarness.load(s.path, config: s.config)
        let streams = 150
        try await withThrowingTaskGroup(of: [DriverEvent].self) { group in
            for i in 0..<streams {
                let cancelAfter: Duration? = i % 5 == 0 ? nil : .microseconds(Int.random(in: 0...30_000))
                group.addTask { try await DriverHarness.run(driver, request: s.request, cancelAfter: cancelAfter) }
            }
            var finishedNormally = 0
            for try await events in group {
                #expect(events.filter(\.isTerminal).count == 1)
                #expect(events.last?.isTerminal == true)
                if case .finish(.stop) = events.last { finishedNormally += 1 }
            }
            #expect(finishedNormally >= streams / 5, "uncancelled streams must finish normally")
        }
        // Late emits, if any, would be counted here; let any in-flight driver work settle first.
        try await waitUntil { driver.activeStreams == 0 && driver.hostOpenStreams == 0 }
        #expect(driver.protocolViolations == 0)
    }

    @Test(arguments: subjects)
    func cancelIsIdempotentAndSafeForUnknownStreams(_ s: Subject) async throws {
        let driver = try DriverHarness.load(s.path, config: s.config)
        driver.cancel(999_999)  // never started
        let events = try await DriverHarness.run(driver, request: s.request, cancelAfter: .milliseconds(5))
        #expect(events.last == .finish(.cancelled) || events.last == .finish(.stop))
        try await waitUntil { driver.activeStreams == 0 }
    }

    /// The host side must accept emits from any number of foreign threads at once, and refuse
    /// late, unknown and malformed events with the documented codes.
    @Test func hostBridgeAcceptsForeignThreadsAndRefusesBadEmits() async throws {
        let driver = try DriverHarness.load(BuildProducts.cDriver, config: #"{"deltas": 1}"#)
        let bridge = driver.bridge
        let sink = EventSink(requestID: "threads")
        let id = bridge.registry.register(sink)
        let table = bridge.table.pointee
        struct Unchecked: @unchecked Sendable { let api: m2a_host_api }
        let shared = Unchecked(api: table)
        let threads = 8
        let perThread = 500
        let done = NIOLockedValueBox(0)
        for _ in 0..<threads {
            Thread.detachNewThread {
                for _ in 0..<perThread {
                    var e = m2a_event_make(M2A_EVENT_TEXT_DELTA.rawValue)
                    "x".withCString { p in
                        e.text = m2a_str(ptr: p, len: 1)
                        _ = shared.api.emit(shared.api.ctx, id, &e)
                    }
                }
                done.withLockedValue { $0 += 1 }
            }
        }
        try await waitUntil { done.withLockedValue { $0 } == threads }
        var finish = m2a_event_make(M2A_EVENT_FINISH.rawValue)
        finish.finish_reason = M2A_FINISH_STOP.rawValue
        #expect(table.emit(table.ctx, id, &finish) == M2A_OK.rawValue)
        var texts = 0
        while true {
            let batch = await sink.next()
            texts += batch.events.filter { if case .text = $0 { true } else { false } }.count
            if batch.events.last?.isTerminal == true { break }
        }
        #expect(texts == threads * perThread)

        var late = m2a_event_make(M2A_EVENT_TEXT_DELTA.rawValue)
        #expect(table.emit(table.ctx, id, &late) == M2A_ERR_STREAM_CLOSED.rawValue)
        #expect(table.emit(table.ctx, id + 1000, &late) == M2A_ERR_UNKNOWN_STREAM.rawValue)
        let id2 = bridge.registry.register(EventSink(requestID: "bad"))
        var small = m2a_event_make(M2A_EVENT_TEXT_DELTA.rawValue)
        small.struct_size = 8
        #expect(table.emit(table.ctx, id2, &small) == M2A_ERR_INVALID.rawValue)
        var unknownKind = m2a_event_make(77)
        #expect(table.emit(table.ctx, id2, &unknownKind) == M2A_ERR_INVALID.rawValue)
        #expect(driver.protocolViolations == 4)
    }

    @Test func stateServicesRoundTripThroughTheABI() throws {
        let state = MemoryStateStore()
        let driver = try DriverHarness.load(BuildProducts.cDriver, config: "{}", state: state)
        let t = driver.bridge.table.pointee
        func str(_ s: String, _ body: (m2a_str) -> Int32) -> Int32 { s.withCString { body(m2a_str(ptr: $0, len: strlen($0))) } }
        #expect(str("k") { k in str("v1") { v in t.state_set(t.ctx, k, v, 60_000) } } == M2A_OK.rawValue)
        var out = m2a_buf(ptr: nil, len: 0)
        #expect(str("k") { t.state_get(t.ctx, $0, &out) } == M2A_OK.rawValue)
        #expect(String(cString: out.ptr) == "v1")
        t.buf_free(t.ctx, &out)
        #expect(out.ptr == nil)
        #expect(str("k") { k in str("v") { v in t.state_set(t.ctx, k, v, 0) } } == M2A_ERR_INVALID.rawValue, "a TTL is required")
        var token = m2a_buf(ptr: nil, len: 0)
        #expect(str("L") { t.state_lock(t.ctx, $0, 60_000, &token) } == M2A_OK.rawValue)
        var other = m2a_buf(ptr: nil, len: 0)
        #expect(str("L") { t.state_lock(t.ctx, $0, 60_000, &other) } == M2A_ERR_BUSY.rawValue)
        let tokenText = String(cString: token.ptr)
        #expect(str("L") { k in str(tokenText) { tok in t.state_unlock(t.ctx, k, tok) } } == M2A_OK.rawValue)
        t.buf_free(t.ctx, &token)
        #expect(str("L") { t.state_lock(t.ctx, $0, 60_000, &other) } == M2A_OK.rawValue)
        t.buf_free(t.ctx, &other)
        #expect(str("k") { t.state_delete(t.ctx, $0) } == M2A_OK.rawValue)
        #expect(str("k") { t.state_get(t.ctx, $0, &out) } == M2A_ERR_NOT_FOUND.rawValue)
        #expect(try state.get("d:k").get() == nil, "keys are namespaced by driver name")
    }
}
