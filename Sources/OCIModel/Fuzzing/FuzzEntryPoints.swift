// Entry points for the libFuzzer harnesses in Fuzz/ and the corpus replay
// test (Tests/FuzzReplayTests): one function per harness, taking the raw
// fuzzer input, so the harness and the replay run exactly the same checks.
//
// Thread safety: stateless.
// Invariants:
//   1. Every function returns or throws `FuzzInvariantViolation`, whatever
//      the bytes; an input the parser rejects simply returns.
//   2. A violation names the invariant of Fuzz/README.md that failed; a
//      harness turns it into a crash report, the replay test into a failure.

import Foundation

@_spi(Fuzzing)
public struct FuzzInvariantViolation: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

@_spi(Fuzzing)
public enum FuzzEntryPoints {
    static let manifestContentTypes: [String?] = [
        nil, "", MediaType.ociManifest, MediaType.ociIndex,
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "application/json", "application/vnd.oci.image.manifest.v1+json; charset=utf-8", "text/plain",
    ]

    /// FuzzManifest: first byte picks the Content-Type, the rest is the body.
    public static func manifest(_ bytes: [UInt8]) throws {
        guard let selector = bytes.first else { return }
        let contentType = manifestContentTypes[Int(selector) % manifestContentTypes.count]
        guard let m = try? ParsedManifest.parse(Array(bytes.dropFirst()), contentType: contentType) else { return }
        try check(MediaType.manifestTypes.contains(m.mediaType), "accepted media type \(m.mediaType)")
        for d in m.references { try check((try? Digest(parsing: d.description)) == d, "reference \(d) does not round-trip") }
    }

    /// FuzzIndex: the body as an OCI index, and the ImageIndex Codable model.
    public static func index(_ bytes: [UInt8]) throws {
        if let m = try? ParsedManifest.parse(bytes, contentType: MediaType.ociIndex) {
            try check(m.kind == .index && m.config == nil && m.layers.isEmpty, "index parsed as an image")
            let served = ImageIndex.referrersResponse(m.manifests)
            let again = try? JSONDecoder().decode(ImageIndex.self, from: Data(served))
            try check(again?.manifests == m.manifests, "referrers response does not round-trip")
        }
        if shallowJSON(bytes), let index = try? JSONDecoder().decode(ImageIndex.self, from: Data(bytes)) {
            _ = ImageIndex.referrersResponse(index.manifests)
        }
    }

    /// FuzzDescriptor: what JSONDecoder accepts encodes and decodes back equal.
    public static func descriptor(_ bytes: [UInt8]) throws {
        guard shallowJSON(bytes), let d = try? JSONDecoder().decode(Descriptor.self, from: Data(bytes)) else { return }
        let again = try? JSONDecoder().decode(Descriptor.self, from: JSONEncoder().encode(d))
        try check(again == d, "Descriptor does not round-trip")
    }

    /// FuzzDigest: accepted ⇒ grammatical, description == input, sha256/sha512.
    public static func digest(_ bytes: [UInt8]) throws {
        let s = String(decoding: bytes, as: UTF8.self)
        let grammatical = Digest.matchesGrammar(s)
        do {
            let d = try Digest(parsing: s)
            try check(grammatical, "accepted a digest outside the grammar")
            try check(d.description == s, "description differs from input")
            try check(["sha256", "sha512"].contains(d.algorithm), "algorithm \(d.algorithm)")
            try check((try? Digest(algorithm: d.algorithm, encoded: d.encoded)) == d, "algorithm+encoded round trip")
        } catch let e as OCIParseError {
            if e.code == .digestUnsupported { try check(grammatical, "unsupported but not grammatical") }
        } catch let v as FuzzInvariantViolation {
            throw v
        } catch {
            throw FuzzInvariantViolation("unexpected error \(error)")
        }
    }

    /// FuzzRepositoryName: validate and isValid agree; accepted names are safe path parts.
    public static func repositoryName(_ bytes: [UInt8]) throws {
        let s = String(decoding: bytes, as: UTF8.self)
        let valid = RepositoryName.isValid(s)
        try check(valid == ((try? RepositoryName.validate(s)) != nil), "validate and isValid disagree")
        guard valid else { return }
        let u = Array(s.utf8)
        try check(u.count <= RepositoryName.maxLength, "longer than \(RepositoryName.maxLength)")
        try check(!u.contains(0) && !u.contains(UInt8(ascii: "%")) && !s.contains("..") && !s.contains("//"), "unsafe bytes")
        try check(u.first != UInt8(ascii: "/") && u.last != UInt8(ascii: "/"), "leading or trailing /")
        try check(s.split(separator: "/").allSatisfy { $0 != "." && $0 != ".." }, ". or .. component")
    }

    /// FuzzReference: a tag is a valid tag without ':'; description == input.
    public static func reference(_ bytes: [UInt8]) throws {
        let s = String(decoding: bytes, as: UTF8.self)
        guard let ref = try? Reference(parsing: s) else { return }
        switch ref {
        case .tag(let t): try check(Tag.isValid(t) && t == s && !t.contains(":"), "tag \(t)")
        case .digest(let d): try check(d.description == s, "digest reference \(d)")
        }
        try check(ref.description == s, "description differs from input")
    }

    /// FuzzContentRange: start <= end, and `length` does not overflow.
    public static func contentRange(_ bytes: [UInt8]) throws {
        guard let r = try? ContentRange.parse(String(decoding: bytes, as: UTF8.self)) else { return }
        try check(r.start <= r.end && r.end < UInt64.max, "range \(r.start)-\(r.end)")
        try check(r.length >= 1, "length")
    }

    /// FuzzByteRange: 8 bytes little-endian blob size, then the Range header; the range lies inside the blob.
    public static func byteRange(_ bytes: [UInt8]) throws {
        guard bytes.count >= 8 else { return }
        let blobSize = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard let r = try? ByteRange.parse(String(decoding: bytes[8...], as: UTF8.self), size: blobSize) else { return }
        try check(r.lowerBound <= r.upperBound && r.upperBound < blobSize, "range \(r) outside a blob of \(blobSize)")
    }

    /// FuzzAcceptHeader: input lines are header values; results distinct,
    /// non-empty, lowercase, trimmed, no ','/';' (checked on bytes: String
    /// comparison would match U+037E to ';').
    public static func acceptHeader(_ bytes: [UInt8]) throws {
        let s = String(decoding: bytes, as: UTF8.self)
        let types = AcceptHeader.mediaTypes(s.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
        try check(Set(types).count == types.count, "duplicates")
        for t in types {
            let u = Array(t.utf8)
            try check(!u.isEmpty, "empty media type")
            try check(!u.contains(UInt8(ascii: ",")) && !u.contains(UInt8(ascii: ";")), "separator left in \(t)")
            try check(!u.contains { $0 >= 0x41 && $0 <= 0x5A }, "ASCII uppercase left in \(t)")
            try check(u.first != 0x20 && u.first != 0x09 && u.last != 0x20 && u.last != 0x09, "untrimmed \(t)")
        }
    }

    /// Foundation's recursive JSONDecoder has no depth guard of its own (the
    /// server never feeds it client bytes): keep the harnesses off its stack depth.
    static func shallowJSON(_ bytes: [UInt8]) -> Bool {
        bytes.count(where: { $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "{") }) <= 64
    }

    static func check(_ condition: Bool, _ what: @autoclosure () -> String) throws {
        if !condition { throw FuzzInvariantViolation(what()) }
    }
}
