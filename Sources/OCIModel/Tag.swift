/// Tags: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}` (OCI distribution spec).
public enum Tag {
    public static let maxLength = 128

    public static func validate(_ tag: String) throws {
        guard isValid(tag) else {
            throw OCIParseError(.tagInvalid,
                "invalid tag \(Digest.quote(tag)): must match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
        }
    }

    public static func isValid(_ tag: String) -> Bool {
        let bytes = tag.utf8
        guard let first = bytes.first, bytes.count <= maxLength else { return false }
        guard ASCII.isAlnum(first) || first == UInt8(ascii: "_") else { return false }
        for b in bytes.dropFirst() {
            guard ASCII.isAlnum(b) || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-") else {
                return false
            }
        }
        return true
    }
}
