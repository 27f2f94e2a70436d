import Foundation
@testable import Host

/// Loads driver libraries the way the host does and collects a stream's events.
enum DriverHarness {
    static func load(_ path: String, name: String = "d", config: String = "{}", state: any StateStore = MemoryStateStore()) throws -> LoadedDriver {
        try DriverLoader.load(name: name, path: path, configJSON: config, file: "test-plugins.json", registry: StreamRegistry(), state: state, logger: LogCapture().logger)
    }

    /// Starts one stream and returns every event up to and including the terminal one.
    static func run(_ driver: LoadedDriver, request: [UInt8], cancelAfter: Duration? = nil) async throws -> [DriverEvent] {
        let sink = EventSink(requestID: "test")
        guard let id = driver.start(sink: sink, requestJSON: request) else { throw HarnessError.refused }
        if let cancelAfter {
            Task {
                try? await Task.sleep(for: cancelAfter)
                driver.cancel(id)
            }
        }
        var events: [DriverEvent] = []
        while true {
            let batch = await sink.next()
            events += batch.events
            if events.last?.isTerminal == true { return events }
        }
    }

    enum HarnessError: Error { case refused }

    static func request(model: String, tools: Bool = false, extraMessages: [CanonicalRequest.Message] = []) -> [UInt8] {
        var r = CanonicalRequest(requestID: "golden", model: model, stream: true, messages: [
            .init(role: .system, content: "You are a test."),
            .init(role: .user, content: "Create ./hello.txt please."),
        ] + extraMessages)
        if tools {
            r.tools = [
                .init(name: "Write", description: "Write a file", parameters: try! JSONParser.parse(
                    #"{"type":"object","properties":{"file_path":{"type":"string"},"content":{"type":"string"}},"required":["file_path","content"]}"#)),
                .init(name: "Bash", description: "Run a command", parameters: try! JSONParser.parse(
                    #"{"type":"object","properties":{"command":{"type":"string"},"timeout":{"type":"integer"}},"required":["command"]}"#)),
            ]
        }
        return r.driverJSON(toolMode: "text")
    }
}
