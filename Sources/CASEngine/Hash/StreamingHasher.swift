// Streaming SHA-256 / SHA-512 through OpenSSL's EVP interface, fed while the
// bytes arrive so an upload is hashed exactly once. Public for tools that
// verify bytes they stream elsewhere (`regctl import` over HTTP).
//
// Thread safety: a StreamingHasher is NOT thread-safe (one EVP_MD_CTX, mutated
// by update); its owner serialises use (UploadFile holds its lock). The static
// EVP_MD objects are immutable after fetch and shared by all threads.
// Invariants:
//   1. Each algorithm's EVP_MD is fetched once (EVP_MD_fetch) and never freed.
//   2. One EVP_MD_CTX per hasher, freed in deinit.
//   3. `finalize` may be called once; `snapshotDigest` finalises a copy
//      (EVP_MD_CTX_copy_ex) so updates can continue afterwards.

import COpenSSL

public final class StreamingHasher {
    // EVP_MD objects fetched from the default provider are reference-counted,
    // immutable and documented thread-safe for concurrent use in many
    // EVP_MD_CTXs; the pointers are written once during lazy static init.
    nonisolated(unsafe) private static let sha256MD: OpaquePointer = fetch("SHA256")
    nonisolated(unsafe) private static let sha512MD: OpaquePointer = fetch("SHA512")

    private static func fetch(_ name: String) -> OpaquePointer {
        guard let md = EVP_MD_fetch(nil, name, nil) else { fatalError("OpenSSL: EVP_MD_fetch(\(name)) failed") }
        return md
    }

    private static func md(_ algorithm: DigestAlgorithm) -> OpaquePointer {
        switch algorithm {
        case .sha256: return sha256MD
        case .sha512: return sha512MD
        }
    }

    public let algorithm: DigestAlgorithm
    private let ctx: OpaquePointer

    public init(_ algorithm: DigestAlgorithm) {
        self.algorithm = algorithm
        guard let ctx = EVP_MD_CTX_new() else { fatalError("OpenSSL: EVP_MD_CTX_new failed") }
        guard EVP_DigestInit_ex(ctx, StreamingHasher.md(algorithm), nil) == 1 else {
            fatalError("OpenSSL: EVP_DigestInit_ex failed")
        }
        self.ctx = ctx
    }

    private init(copying other: StreamingHasher) {
        algorithm = other.algorithm
        guard let ctx = EVP_MD_CTX_new(), EVP_MD_CTX_copy_ex(ctx, other.ctx) == 1 else {
            fatalError("OpenSSL: EVP_MD_CTX_copy_ex failed")
        }
        self.ctx = ctx
    }

    deinit { EVP_MD_CTX_free(ctx) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        guard EVP_DigestUpdate(ctx, bytes.baseAddress, bytes.count) == 1 else {
            fatalError("OpenSSL: EVP_DigestUpdate failed")
        }
    }

    func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    public func finalize() -> BlobDigest {
        var out = [UInt8](repeating: 0, count: 64)
        var len: UInt32 = 0
        guard EVP_DigestFinal_ex(ctx, &out, &len) == 1, Int(len) == algorithm.byteCount else {
            fatalError("OpenSSL: EVP_DigestFinal_ex failed")
        }
        return BlobDigest(algorithm: algorithm, bytes: Array(out[0..<Int(len)]))!
    }

    /// Digest of everything fed so far, leaving this hasher usable.
    func snapshotDigest() -> BlobDigest { StreamingHasher(copying: self).finalize() }

    static func digest(_ bytes: UnsafeRawBufferPointer, _ algorithm: DigestAlgorithm) -> BlobDigest {
        let h = StreamingHasher(algorithm)
        h.update(bytes)
        return h.finalize()
    }

    static func digest(_ bytes: [UInt8], _ algorithm: DigestAlgorithm) -> BlobDigest {
        bytes.withUnsafeBytes { digest($0, algorithm) }
    }
}
