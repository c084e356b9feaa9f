import Foundation

/// Go's `time.ParseDuration` syntax: an optional sign, then one or more
/// decimal numbers (fraction allowed) each followed by a unit
/// (ns, us, µs, μs, ms, s, m, h). "0" alone is allowed. Result in seconds.
enum GoDuration {
    private static let units: [(String, Double)] = [
        ("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("μs", 1e-6), ("ms", 1e-3),
        ("s", 1), ("m", 60), ("h", 3600),
    ]

    static func parse(_ text: String) -> TimeInterval? {
        var rest = Substring(text)
        var sign = 1.0
        if let first = rest.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        if rest.isEmpty { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", number.filter({ $0 == "." }).count <= 1,
                  let value = Double(number.hasPrefix(".") ? "0" + number : String(number)) else { return nil }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard let unit = units.first(where: { $0.0 == unitText }) else { return nil }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.1
        }
        return sign * total
    }

    /// Formats seconds back into Go syntax (for messages and docs).
    static func format(_ seconds: TimeInterval) -> String {
        if seconds == 0 { return "0s" }
        var remaining = seconds
        var text = ""
        for (unit, size) in [("h", 3600.0), ("m", 60.0)] where remaining >= size {
            let count = (remaining / size).rounded(.down)
            text += "\(Int(count))\(unit)"
            remaining -= count * size
        }
        if remaining > 0 || text.isEmpty {
            text += remaining == remaining.rounded() ? "\(Int(remaining))s" : "\(remaining)s"
        }
        return text
    }
}
