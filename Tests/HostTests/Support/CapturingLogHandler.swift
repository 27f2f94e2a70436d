import Logging
import NIOConcurrencyHelpers

/// Keeps log events in memory so tests can read access lines.
final class LogCapture: @unchecked Sendable {
    struct Entry {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let entries = NIOLockedValueBox<[Entry]>([])

    var all: [Entry] { entries.withLockedValue { $0 } }
    func append(_ e: Entry) { entries.withLockedValue { $0.append(e) } }

    func accessLines() -> [[String: String]] { all.filter { $0.message == "access" }.map(\.metadata) }

    func access(requestID: String) -> [String: String]? { accessLines().first { $0["request_id"] == requestID } }

    var logger: Logger {
        var l = Logger(label: "test") { _ in Handler(capture: self) }
        l.logLevel = .debug
        return l
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            var m: [String: String] = [:]
            for (k, v) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { m[k] = v.description }
            capture.append(.init(level: event.level, message: event.message.description, metadata: m))
        }
    }
}
