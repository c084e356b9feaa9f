/// The `<reference>` of `/v2/<name>/manifests/<reference>`: a tag or a digest.
///
/// A tag can never contain ':', so anything with a ':' that matches the
/// digest grammar is a digest (and may still throw `digestInvalid` /
/// `digestUnsupported`). A ':' without digest grammar is `referenceInvalid`;
/// no ':' and not a valid tag is `tagInvalid`.
public enum Reference: Hashable, Sendable, CustomStringConvertible {
    case tag(String)
    case digest(Digest)

    public init(parsing string: String) throws {
        if string.utf8.contains(UInt8(ascii: ":")) {
            guard Digest.matchesGrammar(string) else {
                throw OCIParseError(.referenceInvalid,
                    "invalid reference \(Digest.quote(string)): neither a tag nor a digest")
            }
            self = .digest(try Digest(parsing: string))
        } else {
            try Tag.validate(string)
            self = .tag(string)
        }
    }

    public var description: String {
        switch self {
        case .tag(let t): return t
        case .digest(let d): return d.description
        }
    }
}
