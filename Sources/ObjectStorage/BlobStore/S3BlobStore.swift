// Blobs in an S3 bucket under distribution's layout: each blob stored once,
// by digest, at `<rootdirectory>/docker/registry/v2/blobs/sha256/<xx>/<hex>/data`.
// Uploads stream into multipart uploads (S3BlobUpload); reads are ranged and
// streamed; GETs can be handed a presigned URL instead.
//
// Thread safety: Sendable; all state is in S3 (the client is Sendable).
// Invariants:
//   1. A blob key is only ever written with bytes whose SHA-256 is its name:
//      an upload whose digest does not match is aborted before completion.
//   2. Staging keys live under `<rootdirectory>/berth/uploads/` and are
//      deleted after their copy into the blob key.

import Foundation

public struct S3BlobStore: Sendable {
    public let client: S3Client
    /// Key prefix without leading or trailing '/' ("" for the bucket root).
    public let rootDirectory: String
    /// Part size for uploads (at least S3's 5 MiB minimum).
    public let chunkSize: Int

    public init(client: S3Client, rootDirectory: String, chunkSize: Int) {
        self.client = client
        self.rootDirectory = rootDirectory.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
        self.chunkSize = max(chunkSize, Int(S3Client.minimumPartSize))
    }

    private var prefix: String { rootDirectory.isEmpty ? "" : rootDirectory + "/" }

    /// distribution's blob data path for a sha256 digest given as 64 hex digits.
    public func blobKey(sha256Hex hex: String) -> String {
        "\(prefix)docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data"
    }

    func stagingKey(_ id: String) -> String { "\(prefix)berth/uploads/\(id)/data" }

    static func validHex(_ hex: String) -> Bool {
        hex.utf8.count == 64 && hex.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// Size of the blob, nil when absent.
    public func size(sha256Hex hex: String) async throws -> Int64? {
        try await client.headObject(blobKey(sha256Hex: hex))?.size
    }

    /// The blob's bytes (a range of them: inclusive offsets), streamed.
    public func read(sha256Hex hex: String, range: ClosedRange<Int64>? = nil) async throws -> S3ObjectStream {
        try await client.getObject(blobKey(sha256Hex: hex), range: range)
    }

    /// A URL a client can GET the blob from for `expires` seconds.
    public func presignedURL(sha256Hex hex: String, expires: Int) -> String {
        client.presignedGetURL(blobKey(sha256Hex: hex), expires: expires)
    }

    public func delete(sha256Hex hex: String) async throws {
        try await client.deleteObject(blobKey(sha256Hex: hex))
    }

    /// Starts an upload. With `expectedSHA256Hex` the parts go straight into
    /// the blob key's multipart upload and commit copies nothing; without,
    /// they go to a staging key that commit copies server-side.
    public func startUpload(expectedSHA256Hex: String? = nil) throws -> S3BlobUpload {
        if let expected = expectedSHA256Hex, !Self.validHex(expected) {
            throw S3BlobStoreError.invalidDigest(expected)
        }
        return S3BlobUpload(store: self, expected: expectedSHA256Hex, id: UUID().uuidString.lowercased())
    }
}

public enum S3BlobStoreError: Error, Equatable, CustomStringConvertible {
    case invalidDigest(String)
    case digestMismatch(expected: String, actual: String)
    case uploadFinished

    public var description: String {
        switch self {
        case .invalidDigest(let d): return "\(d) is not a sha256 digest (64 lower-case hex digits)"
        case .digestMismatch(let e, let a): return "uploaded bytes hash to sha256:\(a), not sha256:\(e); upload aborted"
        case .uploadFinished: return "the upload was already committed or cancelled"
        }
    }
}
