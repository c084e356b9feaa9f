/// Byte classes shared by the hand-written matchers. Working on UTF-8 bytes
/// keeps every matcher linear and free of Unicode surprises (a non-ASCII byte
/// simply never matches).
enum ASCII {
    @inline(__always) static func isLowerAlnum(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
    }
    @inline(__always) static func isAlnum(_ b: UInt8) -> Bool {
        isLowerAlnum(b) || (b >= 0x41 && b <= 0x5A)
    }
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool {
        b >= 0x30 && b <= 0x39
    }
    @inline(__always) static func isLowerHex(_ b: UInt8) -> Bool {
        isDigit(b) || (b >= 0x61 && b <= 0x66)
    }
    @inline(__always) static func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09
    }

    /// Parses a non-empty run of decimal digits; nil on any other byte or overflow.
    static func parseUInt64<C: Collection>(_ bytes: C) -> UInt64? where C.Element == UInt8 {
        if bytes.isEmpty { return nil }
        var value: UInt64 = 0
        for b in bytes {
            guard isDigit(b) else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(b - 0x30))
            if o1 || o2 { return nil }
            value = s
        }
        return value
    }

    /// Trims spaces and tabs from both ends.
    static func trim(_ s: Substring) -> Substring {
        var s = s
        while let f = s.utf8.first, isSpace(f) { s = s.dropFirst() }
        while let l = s.utf8.last, isSpace(l) { s = s.dropLast() }
        return s
    }

    /// `s` without an ASCII `prefix` (matched case-insensitively), or nil.
    /// Works on bytes so Unicode case mapping and grapheme clustering cannot
    /// shift the cut.
    static func dropPrefixCaseInsensitive(_ s: Substring, _ prefix: String) -> Substring? {
        let u = s.utf8
        var i = u.startIndex
        for p in prefix.utf8 {
            guard i != u.endIndex else { return nil }
            var b = u[i]
            if b >= 0x41 && b <= 0x5A { b += 0x20 }
            guard b == p else { return nil }
            i = u.index(after: i)
        }
        return s[i...]
    }
}
