/// Rejects JSON nested deeper than a limit before any JSON parser sees it,
/// so hostile input ("[[[[…") cannot exhaust the stack of a recursive
/// decoder. One linear pass; honours strings and backslash escapes so
/// brackets inside string values do not count.
enum JSONDepthGuard {
    static let maxDepth = 64

    /// JSON insignificant whitespace (RFC 8259 §2).
    static func isWhitespace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D
    }

    /// Returns false when nesting exceeds `maxDepth`.
    static func check(_ bytes: [UInt8], maxDepth: Int = maxDepth) -> Bool {
        var depth = 0
        var inString = false
        var escaped = false
        for b in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if b == UInt8(ascii: "\\") {
                    escaped = true
                } else if b == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch b {
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maxDepth { return false }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                // Unbalanced closers are the JSON parser's problem to report.
                if depth > 0 { depth -= 1 }
            default:
                break
            }
        }
        return true
    }
}
