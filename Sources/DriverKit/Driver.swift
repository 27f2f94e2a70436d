import Foundation
import PluginABI

/// What a Swift driver implements. DriverExport turns it into the C table of the ABI.
public protocol Driver: AnyObject, Sendable {
    /// Build an instance from its configuration object (already `${ENV}`-substituted).
    /// Throw `DriverConfigError` naming the bad field; the host stops start-up with it.
    init(config: [String: Any], host: HostServices) throws

    var capabilities: DriverCapabilities { get }

    /// Begin an answer. Must return at once: do the work on the driver's own threads.
    /// Throwing means "no event will ever come for this stream".
    func start(_ stream: DriverStream, request: Data) throws

    /// Stop a stream as soon as possible; idempotent; must not block.
    func cancel(_ stream: m2a_stream_id)

    /// Streams started and not yet terminated.
    var activeStreams: UInt64 { get }
}

public struct DriverCapabilities: Sendable {
    public var streaming: Bool
    public var nativeTools: Bool
    public var reasoning: Bool
    public var maxConcurrentStreams: UInt32

    public init(streaming: Bool = true, nativeTools: Bool = false, reasoning: Bool = false, maxConcurrentStreams: UInt32 = 0) {
        self.streaming = streaming
        self.nativeTools = nativeTools
        self.reasoning = reasoning
        self.maxConcurrentStreams = maxConcurrentStreams
    }
}

/// A configuration problem, reported to the operator as "<field>: <problem>".
public struct DriverConfigError: Error, CustomStringConvertible {
    public let field: String
    public let problem: String
    public init(field: String, _ problem: String) {
        self.field = field
        self.problem = problem
    }
    public var description: String { "\(field): \(problem)" }
}
