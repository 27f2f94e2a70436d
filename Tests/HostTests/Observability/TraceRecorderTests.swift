import Foundation
import HTTPTypes
import Logging
import Testing
@testable import Host

/// Trace files: redacted, capped, owner-only, and gone after a day.
@Suite struct TraceRecorderTests {
    static func tempDir() -> String {
        let dir = NSTemporaryDirectory() + "mix2api-trace-test-" + UUID().uuidString
        try! TraceRecorder.prepare(dir)
        return dir
    }

    @Test func aCaptureIsWrittenRedactedAndCapped() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let recorder = TraceRecorder(directory: dir, samplePercent: 100, logger: LogCapture().logger)
        var headers = HTTPFields()
        headers[.authorization] = "Bearer inbound-key-abcdef"
        let capture = TraceCapture(requestID: "rid-1", method: "POST", path: "/v1/chat/completions?api_key=abcdef123456", headers: HeaderRedaction.json(headers))
        capture.request(Array(#"{"messages":[{"role":"user","content":"my password=hunter22 ok"}]}"#.utf8))
        capture.response(Array(repeating: UInt8(ascii: "x"), count: TraceSettings.maxBodyBytes + 10))
        capture.status(200)
        recorder.write(capture)
        recorder.drain()
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(TraceRecorder.fileSuffix) }
        #expect(files.count == 1)
        let path = dir + "/" + files[0]
        let text = String(decoding: FileManager.default.contents(atPath: path)!, as: UTF8.self)
        #expect(!text.contains("inbound-key-abcdef"))
        #expect(!text.contains("hunter22"))
        #expect(!text.contains("abcdef123456"))
        let o = try JSONParser.parse(text)
        #expect(o["request_id"]?.stringValue == "rid-1")
        #expect(o["response_body_truncated"]?.boolValue == true)
        #expect(o["response_body"]?.stringValue?.utf8.count == TraceSettings.maxBodyBytes)
        #expect(o["request_body_truncated"]?.boolValue == false)
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
    }

    @Test func filesOlderThanADayAreDeleted() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let old = dir + "/20000101T000000.000Z-old" + TraceRecorder.fileSuffix
        let fresh = dir + "/20000101T000000.000Z-fresh" + TraceRecorder.fileSuffix
        let other = dir + "/keep-me.txt"
        for p in [old, fresh, other] { FileManager.default.createFile(atPath: p, contents: Data("{}".utf8)) }
        let longAgo = Date().addingTimeInterval(-TraceSettings.retentionSeconds - 60)
        try FileManager.default.setAttributes([.modificationDate: longAgo], ofItemAtPath: old)
        try FileManager.default.setAttributes([.modificationDate: longAgo], ofItemAtPath: other)
        let recorder = TraceRecorder(directory: dir, samplePercent: 1, logger: LogCapture().logger)
        recorder.drain()  // the start-up sweep
        #expect(!FileManager.default.fileExists(atPath: old))
        #expect(FileManager.default.fileExists(atPath: fresh))
        #expect(FileManager.default.fileExists(atPath: other), "only trace files are ever deleted")
    }

    @Test func settingsNameTheBadField() {
        #expect(throws: HostConfig.Invalid.self) { try TraceSettings.load(from: ["MIX2API_TRACE_SAMPLE_PERCENT": "150", "MIX2API_TRACE_DIR": "/tmp/x"]) }
        do {
            _ = try TraceSettings.load(from: ["MIX2API_TRACE_SAMPLE_PERCENT": "5"])
            Issue.record("a sample percent without a directory must be refused")
        } catch {
            #expect(error.setting == "MIX2API_TRACE_DIR")
        }
        let off = try? TraceSettings.load(from: [:])
        #expect(off?.enabled == false)
        let on = try? TraceSettings.load(from: ["MIX2API_TRACE_SAMPLE_PERCENT": "2.5", "MIX2API_TRACE_DIR": "/tmp/x"])
        #expect(on?.samplePercent == 2.5 && on?.enabled == true)
    }
}

