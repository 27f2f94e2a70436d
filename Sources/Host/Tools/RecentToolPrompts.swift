import NIOConcurrencyHelpers

/// The last few tool prompts rendered, by their exact inputs.
///
/// Why: IDE agents send the same tool set on every turn of a session, and rendering it (schema
/// summaries, examples, string building) cost about 40 µs for a single tool in a profile of the
/// site path, more for Claude Code's 15–20 tools, on every request before the first byte went to
/// the site. Comparing a request's tools with a remembered set is a small fraction of that (names
/// and descriptions differ early when they differ at all). Exact inputs as the key, so a hit is
/// the same text rendering would give (the renderer is deterministic), never a near match.
final class RecentToolPrompts: Sendable {
    struct Key: Equatable, Sendable {
        // Compared in this order (synthesized ==): the cheap fields first, the tool trees last.
        var choice: CanonicalRequest.ToolChoice
        var parallel: Bool
        var tools: [CanonicalRequest.Tool]
    }

    let capacity: Int
    /// Most recently used first.
    private let entries = NIOLockedValueBox<[(key: Key, text: String)]>([])

    init(capacity: Int = 16) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    var count: Int { entries.withLockedValue { $0.count } }

    /// The remembered text for `key`, or `render()`'s, which is then remembered (the least
    /// recently used entry makes room).
    func text(for key: Key, render: () -> String) -> String {
        // Compared outside the lock: the snapshot shares the stored arrays (copy on write).
        let snapshot = entries.withLockedValue { $0 }
        if let hit = snapshot.firstIndex(where: { $0.key == key }) {
            let text = snapshot[hit].text
            if hit > 0 { remember(key, text) }
            return text
        }
        let text = render()
        remember(key, text)
        return text
    }

    private func remember(_ key: Key, _ text: String) {
        entries.withLockedValue { list in
            list.removeAll { $0.key == key }
            list.insert((key, text), at: 0)
            if list.count > capacity { list.removeLast(list.count - capacity) }
        }
    }
}
