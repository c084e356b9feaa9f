/// Repository names (OCI distribution spec, "Pulling manifests"):
///
///   [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
///
/// Matched by hand, byte by byte, in one linear pass.
public enum RepositoryName {
    public static let maxLength = 255

    public static func validate(_ name: String) throws {
        let bytes = name.utf8
        if bytes.isEmpty {
            throw OCIParseError(.nameInvalid, "repository name must not be empty")
        }
        if bytes.count > maxLength {
            throw OCIParseError(.nameInvalid, "repository name is longer than \(maxLength) characters")
        }
        guard matches(bytes) else {
            throw OCIParseError(.nameInvalid,
                "invalid repository name \(Digest.quote(name)): path components must be lowercase alphanumerics separated by '.', '_', '__' or '-'")
        }
    }

    public static func isValid(_ name: String) -> Bool {
        let bytes = name.utf8
        return !bytes.isEmpty && bytes.count <= maxLength && matches(bytes)
    }

    private enum State { case componentStart, inAlnum, afterDot, afterUnderscore, afterTwoUnderscores, afterDashes }

    private static func matches(_ bytes: String.UTF8View) -> Bool {
        var state = State.componentStart
        for b in bytes {
            if ASCII.isLowerAlnum(b) {
                state = .inAlnum
                continue
            }
            switch (state, b) {
            case (.inAlnum, UInt8(ascii: "/")): state = .componentStart
            case (.inAlnum, UInt8(ascii: ".")): state = .afterDot
            case (.inAlnum, UInt8(ascii: "_")): state = .afterUnderscore
            case (.afterUnderscore, UInt8(ascii: "_")): state = .afterTwoUnderscores
            case (.inAlnum, UInt8(ascii: "-")), (.afterDashes, UInt8(ascii: "-")): state = .afterDashes
            default: return false
            }
        }
        return state == .inAlnum
    }
}
