// One-shot hashing for callers above the engine (HTTP layer, tools, tests).
// Streams through the same OpenSSL EVP path as uploads.

extension BlobDigest {
    public static func compute(_ bytes: UnsafeRawBufferPointer, _ algorithm: DigestAlgorithm) -> BlobDigest {
        StreamingHasher.digest(bytes, algorithm)
    }

    public static func compute(_ bytes: [UInt8], _ algorithm: DigestAlgorithm) -> BlobDigest {
        bytes.withUnsafeBytes { StreamingHasher.digest($0, algorithm) }
    }
}
