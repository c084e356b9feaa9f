// AWS's URI encoding for SigV4 and S3 object keys: every byte of the UTF-8
// form is percent-encoded (upper-case hex) except the unreserved characters
// A-Z a-z 0-9 - _ . ~ and, in paths, '/'. This is botocore's
// `percent_encode(value, safe='/~')` for keys and `quote(v, safe='-_.~')`
// for query names and values.
//
// Thread safety: pure functions.

enum URIEncoding {
    static func encode(_ string: String, keepSlash: Bool) -> String {
        let hexDigits = Array("0123456789ABCDEF".utf8)
        var out = [UInt8]()
        out.reserveCapacity(string.utf8.count)
        for byte in string.utf8 {
            if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Path form: each segment encoded, '/' kept.
    static func encodePath(_ string: String) -> String { encode(string, keepSlash: true) }

    /// Query name or value form: '/' encoded too.
    static func encodeQuery(_ string: String) -> String { encode(string, keepSlash: false) }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// RFC 3986 5.2.4 dot-segment removal with empty segments collapsed, as
    /// botocore's `remove_dot_segments` (generic SigV4 only; S3 signs the
    /// path as sent).
    static func removeDotSegments(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        var output: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." { if !output.isEmpty { output.removeLast() }; continue }
            output.append(segment)
        }
        let first = path.hasPrefix("/") ? "/" : ""
        let last = path.hasSuffix("/") && !output.isEmpty ? "/" : ""
        return first + output.joined(separator: "/") + last
    }
}
