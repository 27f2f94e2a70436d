/// The file task the scripted test models answer (MockUpstream's `mock-write-task`, the site
/// simulator's WriteTaskModel): in "create the file /abs/path containing "text"", the last word
/// outside double quotes that starts with `/` and is followed by a double-quoted text, and that
/// text. Words before it (an agent's reminders, URLs) do not count, and neither do slashes inside
/// the quoted content. One parser, so both stand-ins read a task the same way.
public struct FileTask: Equatable, Sendable {
    public var path: String
    public var content: String

    public init?(_ message: String) {
        var words: [(word: String, at: Int)] = []  // unquoted words starting with "/"
        var quoted: [(text: String, at: Int)] = []
        var inQuote = false
        var current = ""
        var position = 0
        func endWord() {
            var w = Substring(current)
            while let c = w.last, ".,;:!?)`'".contains(c) { w = w.dropLast() }
            if w.hasPrefix("/") { words.append((String(w), position)) }
            current = ""
        }
        for ch in message {
            position += 1
            if ch == "\"" {
                if inQuote { quoted.append((current, position)); current = "" } else { endWord() }
                inQuote.toggle()
            } else if inQuote {
                current.append(ch)
            } else if ch.isWhitespace || "(`'".contains(ch) {
                endWord()
            } else {
                current.append(ch)
            }
        }
        if !inQuote { endWord() }
        guard let file = words.last(where: { w in quoted.contains { $0.at > w.at } }),
              let text = quoted.first(where: { $0.at > file.at }) else { return nil }
        path = file.word
        content = text.text
    }
}
