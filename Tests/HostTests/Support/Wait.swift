import Foundation
import Testing

/// Polls `condition` for up to `seconds`; fails the test if it never holds.
func waitUntil(seconds: Double = 10, _ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        if Date() > deadline {
            Issue.record("condition did not hold within \(seconds) s", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: .milliseconds(2))
    }
}
