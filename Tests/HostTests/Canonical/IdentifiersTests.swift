import Testing
@testable import Host

/// Client-visible ids: the right shape, drawn from the whole alphabet, and not repeated.
@Suite struct IdentifiersTests {
    static let alphanumerics = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    @Test func shapes() {
        let rid = Identifiers.requestID()
        #expect(rid.count == 32 && rid.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        for (id, prefix) in [(Identifiers.chatCompletionID(), "chatcmpl-"), (Identifiers.openAIToolCallID(), "call_"),
                             (Identifiers.anthropicToolUseID(), "toolu_"), (Identifiers.anthropicMessageID(), "msg_")] {
            #expect(id.hasPrefix(prefix))
            let tail = id.dropFirst(prefix.count)
            #expect(tail.count == 24 && tail.allSatisfy { Self.alphanumerics.contains($0) }, "\(id)")
        }
    }

    @Test func everySymbolIsDrawnAndIdsDoNotRepeat() {
        var seen: [Character: Int] = [:]
        var ids = Set<String>()
        for _ in 0..<2_000 {
            let id = Identifiers.random(24, from: Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8))
            ids.insert(id)
            for c in id { seen[c, default: 0] += 1 }
        }
        #expect(ids.count == 2_000)
        #expect(Set(seen.keys) == Self.alphanumerics)
        // 48,000 draws over 62 symbols: about 774 each. A mapping that favoured part of the alphabet
        // (a plain byte % 62 gives the first 8 symbols 5/4 the share, ~937 each) lands outside this band;
        // a fair draw (standard deviation 27.6) strays 4.9 deviations that far about once in 18,000 runs.
        let counts = seen.values
        #expect(counts.min()! > 638 && counts.max()! < 910, "\(seen.sorted { $0.value < $1.value }.prefix(3)) … \(seen.sorted { $0.value > $1.value }.prefix(3))")
    }

    @Test func lengthsThatAreNotMultiplesOfEight() {
        for n in [0, 1, 7, 8, 9, 23, 33] {
            #expect(Identifiers.random(n, from: Array("ab".utf8)).count == n)
        }
    }
}
