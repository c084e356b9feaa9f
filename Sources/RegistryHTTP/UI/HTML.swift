// HTML text for the web page: every value that may have come from a client
// (repository names, tags, annotations, labels, config history, user names)
// goes through `HTML.text`/`HTML.attr`, and URL path parts through `HTML.path`.
//
// Thread safety: pure functions.
// Invariants:
//   1. `text` escapes & < > " ' so the result is inert in element content
//      and in quoted attribute values alike.
//   2. No page has inline script or style (the CSP forbids them).

enum HTML {
    static func text(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\u{0}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func attr(_ s: String) -> String { text(s) }

    /// Percent-encodes one URL path or query part (then HTML-escapes it for an attribute).
    static func component(_ s: String, keepSlash: Bool = false) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                 UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: ":"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            case UInt8(ascii: "/") where keepSlash:
                out += "/"
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 0xf)]], as: UTF8.self)
            }
        }
        return out
    }

    static func bytes(_ n: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var v = Double(n), i = 0
        while v >= 1024, i < units.count - 1 { v /= 1024; i += 1 }
        if i == 0 { return "\(n) B" }
        let rounded = (v * 10).rounded() / 10
        return "\(rounded) \(units[i])"
    }

    static func time(_ seconds: UInt64?) -> String {
        guard let seconds, seconds > 0 else { return "never" }
        let t = RegistryHandler.rfc3339(seconds)
        return "<time datetime=\"\(t)\">\(t.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC"))</time>"
    }

    static func digest(_ d: String) -> String {
        "<code class=\"digest\" title=\"\(attr(d))\">\(text(d.count > 19 ? String(d.prefix(19)) + "…" : d))</code>"
    }
}
