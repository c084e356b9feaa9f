/// The `Range` header of a blob GET (RFC 9110 §14.1.2), single range only.
public enum ByteRange {
    /// - Returns: the inclusive byte range to serve, clamped to the blob; or
    ///   nil when the header is well-formed but unsatisfiable for `size`
    ///   (the caller answers 416 with `Content-Range: bytes */size`).
    /// - Throws: `rangeInvalid` for syntax errors, other units, and multiple
    ///   ranges (which Berth does not serve).
    public static func parse(_ header: String, size: UInt64) throws -> ClosedRange<UInt64>? {
        let s = ASCII.trim(Substring(header))
        guard let rest = ASCII.dropPrefixCaseInsensitive(s, "bytes=") else {
            throw invalid(header, "expected bytes=")
        }
        let spec = ASCII.trim(rest)
        if spec.utf8.contains(UInt8(ascii: ",")) {
            throw invalid(header, "multiple ranges are not supported")
        }
        let parts = spec.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw invalid(header, "expected first-last") }
        let first = ASCII.trim(parts[0]), last = ASCII.trim(parts[1])

        if first.isEmpty {
            // Suffix range: the last n bytes.
            guard let n = ASCII.parseUInt64(last.utf8) else { throw invalid(header, "bad suffix length") }
            if n == 0 || size == 0 { return nil }
            return (size - min(n, size))...(size - 1)
        }
        guard let start = ASCII.parseUInt64(first.utf8) else { throw invalid(header, "bad first byte position") }
        var end = UInt64.max
        if !last.isEmpty {
            guard let e = ASCII.parseUInt64(last.utf8) else { throw invalid(header, "bad last byte position") }
            guard e >= start else { throw invalid(header, "last byte position before first") }
            end = e
        }
        if start >= size { return nil }
        return start...min(end, size - 1)
    }

    private static func invalid(_ header: String, _ why: String) -> OCIParseError {
        OCIParseError(.rangeInvalid, "invalid Range \(Digest.quote(header)): \(why)")
    }
}
