/// The `Content-Range` of a chunked upload PATCH: `start-end`, inclusive.
/// Also accepted: `bytes start-end`, `bytes=start-end`, and an ignored
/// `/total` or `/*` suffix, as various clients send them.
public struct ContentRange: Equatable, Sendable {
    public let start: UInt64
    /// Inclusive.
    public let end: UInt64

    public init(start: UInt64, end: UInt64) {
        self.start = start
        self.end = end
    }

    /// Number of bytes the range covers.
    public var length: UInt64 { end - start + 1 }

    public static func parse(_ header: String) throws -> ContentRange {
        var s = ASCII.trim(Substring(header))
        if let rest = ASCII.dropPrefixCaseInsensitive(s, "bytes=") ?? ASCII.dropPrefixCaseInsensitive(s, "bytes ") {
            s = ASCII.trim(rest)
        }
        if let slash = s.utf8.firstIndex(of: UInt8(ascii: "/")) {
            let total = s[s.index(after: slash)...]
            guard total == "*" || ASCII.parseUInt64(total.utf8) != nil else {
                throw invalid(header)
            }
            s = s[..<slash]
        }
        let parts = s.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 2,
              let start = ASCII.parseUInt64(parts[0].utf8),
              let end = ASCII.parseUInt64(parts[1].utf8) else {
            throw invalid(header)
        }
        guard start <= end else {
            throw OCIParseError(.rangeInvalid, "Content-Range start \(start) is after end \(end)")
        }
        // 0-18446744073709551615 would be 2^64 bytes: `length` cannot represent it
        // (and no upload can be that long), so reject it here rather than trap later.
        guard end < UInt64.max else {
            throw OCIParseError(.rangeInvalid, "Content-Range end \(end) is too large")
        }
        return ContentRange(start: start, end: end)
    }

    private static func invalid(_ header: String) -> OCIParseError {
        OCIParseError(.rangeInvalid, "invalid Content-Range \(Digest.quote(header)): expected start-end")
    }
}
