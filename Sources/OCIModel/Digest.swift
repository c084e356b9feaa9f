/// A content digest, `algorithm:encoded` (OCI image-spec descriptor.md).
///
/// Grammar:
///   digest     ::= algorithm ":" encoded
///   algorithm  ::= component (separator component)*
///   component  ::= [a-z0-9]+
///   separator  ::= [+._-]
///   encoded    ::= [a-zA-Z0-9=_-]+
/// Registered algorithms are checked strictly: sha256 = 64 and sha512 = 128
/// lowercase hex characters. Any other well-formed algorithm is
/// `digestUnsupported`; anything malformed is `digestInvalid`.
public struct Digest: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let algorithm: String
    public let encoded: String

    public init(parsing string: String) throws {
        guard let (alg, enc) = Digest.splitIfGrammatical(string) else {
            throw OCIParseError(.digestInvalid, "invalid digest \(Digest.quote(string)): expected algorithm:encoded")
        }
        let expectedLength: Int
        switch alg {
        case "sha256": expectedLength = 64
        case "sha512": expectedLength = 128
        default:
            throw OCIParseError(.digestUnsupported, "unsupported digest algorithm \(Digest.quote(alg))")
        }
        let encBytes = enc.utf8
        guard encBytes.count == expectedLength, encBytes.allSatisfy(ASCII.isLowerHex) else {
            throw OCIParseError(.digestInvalid,
                "invalid \(alg) digest: encoded part must be \(expectedLength) lowercase hex characters")
        }
        self.algorithm = String(alg)
        self.encoded = String(enc)
    }

    /// For callers that computed the hash themselves; validated like `parsing`.
    public init(algorithm: String, encoded: String) throws {
        try self.init(parsing: algorithm + ":" + encoded)
    }

    public var description: String { algorithm + ":" + encoded }

    public static func < (lhs: Digest, rhs: Digest) -> Bool {
        (lhs.algorithm, lhs.encoded) < (rhs.algorithm, rhs.encoded)
    }

    /// True when `string` matches the general digest grammar, whatever the
    /// algorithm and encoded length.
    public static func matchesGrammar(_ string: String) -> Bool {
        splitIfGrammatical(string) != nil
    }

    static func splitIfGrammatical(_ string: String) -> (Substring, Substring)? {
        guard let colon = string.utf8.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let alg = string[string.startIndex..<colon]
        let enc = string[string.index(after: colon)...]
        guard isAlgorithm(alg.utf8), !enc.isEmpty else { return nil }
        for b in enc.utf8 {
            guard ASCII.isAlnum(b) || b == UInt8(ascii: "=") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-") else {
                return nil
            }
        }
        return (alg, enc)
    }

    private static func isAlgorithm(_ bytes: Substring.UTF8View) -> Bool {
        // component ([+._-] component)*: no empty component anywhere.
        var lastWasSeparator = true
        for b in bytes {
            if ASCII.isLowerAlnum(b) {
                lastWasSeparator = false
            } else if b == UInt8(ascii: "+") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-") {
                if lastWasSeparator { return false }
                lastWasSeparator = true
            } else {
                return false
            }
        }
        return !lastWasSeparator
    }

    /// Quotes user input for messages, cut short so errors stay small.
    static func quote<S: StringProtocol>(_ s: S) -> String {
        let limit = 80
        if s.count <= limit { return "\"\(s)\"" }
        return "\"\(s.prefix(limit))…\""
    }
}
