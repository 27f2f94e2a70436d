/// Parses the three HTTP date formats (RFC 9110 §5.6.7) that a `Retry-After` may carry, without
/// Foundation: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the obsolete RFC 850 form
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
public enum HTTPDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Milliseconds since the Unix epoch, or nil when the text is not an HTTP date.
    public static func parseMs(_ text: String) -> Int64? {
        // Tokens split on spaces, commas and dashes; the weekday is ignored (it adds nothing).
        let tokens = text.split { $0 == " " || $0 == "," || $0 == "-" || $0 == "\t" }.map { String($0).lowercased() }
        guard tokens.count >= 4 else { return nil }
        var day: Int?, month: Int?, year: Int?, time: (Int, Int, Int)?
        for token in tokens {
            if month == nil, let m = months.firstIndex(of: token) {
                month = m + 1
            } else if token.contains(":") {
                let parts = token.split(separator: ":").map { Int($0) }
                guard parts.count == 3, let h = parts[0], let mi = parts[1], let s = parts[2], h < 24, mi < 60, s <= 60 else { return nil }
                time = (h, mi, s)
            } else if let n = Int(token) {
                if day == nil, token.count <= 2 { day = n } else if year == nil { year = n } else { return nil }
            }
        }
        guard let d = day, let mo = month, var y = year, let (h, mi, s) = time, (1...31).contains(d) else { return nil }
        // RFC 850 two-digit years: the RFC says to read them as within 50 years of now; every
        // date a site sends is recent, so 70–99 is 19xx and the rest 20xx.
        if y < 100 { y += y >= 70 ? 1900 : 2000 }
        let days = daysFromCivil(year: y, month: mo, day: d)
        return (Int64(days) * 86_400 + Int64(h * 3600 + mi * 60 + s)) * 1000
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
