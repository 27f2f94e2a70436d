import DriverKit
import PluginABI

/// Scripted breakage for testing what watches mix2api (the release gate, metrics, SLOs): the
/// `faults` field of the mock's config. Not a scenario, because a gate run against a deployment
/// cannot choose its model's failures; the whole instance misbehaves instead.
///
/// - `cut_streams`: every answer that has begun to write text stops after `cutAfterDeltas`
///   deltas (or just before its finish, if shorter) with an UPSTREAM error: the client sees a
///   partial answer, then an error chunk.
/// - `break_tools`: every tool scenario, given tools, calls a tool that does not exist, also when
///   asked again, so the host ends the answer with `adapter_error` and no tool call is emitted.
enum MockFaults: String, Sendable {
    case none
    case cutStreams = "cut_streams"
    case breakTools = "break_tools"

    static let cutAfterDeltas = 3
    static let cutMessage = "mock fault: the stream was cut"

    static func parse(_ value: Any) throws -> MockFaults {
        guard let text = value as? String, let faults = MockFaults(rawValue: text.isEmpty ? "none" : text) else {
            throw DriverConfigError(field: "faults", "must be \"none\", \"cut_streams\" or \"break_tools\"")
        }
        return faults
    }

    /// The script `scenario` plays under these faults.
    func apply(to script: Script, scenario: Scenario, request: MockRequest) -> Script {
        switch self {
        case .none:
            return script
        case .cutStreams:
            return Self.cut(script)
        case .breakTools:
            guard scenario.isToolScenario, !request.tools.isEmpty else { return script }
            let broken = "Calling it.\n<tool_calls>\n<invoke name=\"NoSuchTool\">\n<parameter name=\"x\">1</parameter>\n</invoke>\n</tool_calls>"
            return Script([.upstreamStatus(200), .session(id: request.sessionID, exchange: request.requestID)] + MockEvent.textDeltas(broken) + [.finish(M2A_FINISH_STOP)])
        }
    }

    /// Plays `script` up to the cut. Only as many events are taken as the cut needs, so a
    /// 20,000-delta `mock-long` is not built in memory.
    private static func cut(_ script: Script) -> Script {
        var source = script
        var events: [MockEvent] = []
        var deltas = 0
        while let event = source.next() {
            switch event {
            case .finish, .fail, .hang:
                // Shorter than the cut: the error replaces the finish (a stream with no text is
                // left alone: it has nothing to cut).
                if case .finish = event, deltas > 0 { return Script(events + [.fail(M2A_ERROR_UPSTREAM, cutMessage)]) }
                return Script(events + [event])
            default:
                events.append(event)
                if event.isDelta { deltas += 1 }
                if deltas == cutAfterDeltas { return Script(events + [.fail(M2A_ERROR_UPSTREAM, cutMessage)]) }
            }
        }
        return Script(events)
    }
}

extension Scenario {
    var isToolScenario: Bool {
        switch self {
        case .tool, .toolJSON, .toolParallel, .toolChain, .toolFlaky: true
        default: false
        }
    }
}
