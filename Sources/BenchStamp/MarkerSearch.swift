#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds a `[[…:` marker in a prompt as bytes (`memchr`/`memcmp` over the UTF-8 storage). The markers sit
/// after kilobytes of prompt; Foundation's `range(of:)` goes through UTF-16 on Linux and the
/// standard library's generic `firstRange(of:)` instantiates generic metadata on every call, each
/// costing the simulator tens to hundreds of microseconds per request on the benchmark's busy core.
public enum MarkerSearch {
    /// The range of the first `needle` in `text`; nil when absent. A match is whole UTF-8 code
    /// units of an ASCII needle, so its bounds are valid indices of `text`.
    public static func firstRange(of needle: StaticString, in text: Substring) -> Range<String.Index>? {
        let found: Int?? = text.utf8.withContiguousStorageIfAvailable { hay -> Int? in
            let count = needle.utf8CodeUnitCount
            guard let base = hay.baseAddress, count > 0, hay.count >= count else { return nil }
            let last = hay.count - count  // the last offset a match can start at
            var at = 0
            // memchr to each candidate first byte, then compare the rest.
            while at <= last, let hit = memchr(base + at, Int32(needle.utf8Start[0]), last - at + 1) {
                let offset = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                if memcmp(base + offset, needle.utf8Start, count) == 0 { return offset }
                at = offset + 1
            }
            return nil
        }
        let offset: Int
        switch found {
        case .some(.some(let o)): offset = o
        case .some(.none): return nil
        case .none:  // not contiguous (a bridged string): the slow, general search
            let pattern = String(decoding: UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount), as: UTF8.self)
            return text.firstRange(of: pattern)
        }
        let lower = text.utf8.index(text.startIndex, offsetBy: offset)
        return lower..<text.utf8.index(lower, offsetBy: needle.utf8CodeUnitCount)
    }
}
