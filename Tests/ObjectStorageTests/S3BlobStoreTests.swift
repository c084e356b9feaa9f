import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
@testable import ObjectStorage

/// Blobs by digest in distribution's layout on a real SeaweedFS.
@Suite(.serialized) struct S3BlobStoreTests {
    static func hex(_ bytes: [UInt8]) -> String {
        let h = SHA256Stream()
        h.update(bytes)
        return h.finalizeHex()
    }

    static func feed(_ upload: S3BlobUpload, _ bytes: [UInt8], pieces: [Int]) async throws {
        var offset = 0
        var i = 0
        while offset < bytes.count {
            let n = min(pieces[i % pieces.count], bytes.count - offset)
            try await upload.append(ByteBuffer(bytes: bytes[offset..<offset + n]))
            offset += n
            i += 1
        }
    }

    @Test func knownDigestUploadLandsInTheLayoutKeyWithoutCopy() async throws {
        try await S3ClientTests.withServer { _, client in
            let store = S3BlobStore(client: client, rootDirectory: "/registry/root/", chunkSize: 5 << 20)
            let blob = S3ClientTests.bytes(12 << 20 + 4321, seed: 4)
            let digest = Self.hex(blob)
            let upload = try store.startUpload(expectedSHA256Hex: digest)
            try await Self.feed(upload, blob, pieces: [1_000_003, 77, 3 << 20])
            #expect(try await upload.commit() == digest)
            let key = "registry/root/docker/registry/v2/blobs/sha256/\(digest.prefix(2))/\(digest)/data"
            #expect(store.blobKey(sha256Hex: digest) == key)
            // Only the blob key exists: no staging object was written.
            #expect(try await client.listAllObjects(prefix: "registry/").map(\.key) == [key])
            #expect(try await store.size(sha256Hex: digest) == Int64(blob.count))
            #expect(try await S3ClientTests.collect(store.read(sha256Hex: digest)) == blob)
            let ranged = try await store.read(sha256Hex: digest, range: 5_242_870...5_242_889)
            #expect(try await S3ClientTests.collect(ranged) == Array(blob[5_242_870...5_242_889]))
        }
    }

    @Test func unknownDigestUploadIsStagedThenCopied() async throws {
        try await S3ClientTests.withServer { server, _ in
            // Copy threshold below the blob's size: the staged object is
            // copied as a multipart copy of 5 MiB UploadPartCopy parts.
            var config = server.configuration()
            config.multipartCopyThresholdSize = 1 << 20
            config.multipartCopyChunkSize = 5 << 20
            config.multipartCopyMaxConcurrency = 2
            let client = S3Client(config)
            let store = S3BlobStore(client: client, rootDirectory: "", chunkSize: 5 << 20)
            let blob = S3ClientTests.bytes(6 << 20, seed: 5)
            let upload = try store.startUpload()
            try await Self.feed(upload, blob, pieces: [65536])
            let digest = try await upload.commit()
            #expect(digest == Self.hex(blob))
            #expect(try await client.listAllObjects().map(\.key) == [store.blobKey(sha256Hex: digest)])
            #expect(try await S3ClientTests.collect(store.read(sha256Hex: digest)) == blob)
            // A blob smaller than one part is one PutObject.
            let small = Array("hello".utf8)
            let smallUpload = try store.startUpload()
            try await smallUpload.append(ByteBuffer(bytes: small))
            #expect(try await smallUpload.commit(sha256Hex: Self.hex(small)) == Self.hex(small))
            #expect(try await store.size(sha256Hex: Self.hex(small)) == 5)
            try await client.shutdown()
        }
    }

    @Test func digestMismatchLeavesNothing() async throws {
        try await S3ClientTests.withServer { _, client in
            let store = S3BlobStore(client: client, rootDirectory: "r", chunkSize: 5 << 20)
            let blob = S3ClientTests.bytes(11 << 20, seed: 6)
            let claimed = Self.hex(Array("something else".utf8))
            let upload = try store.startUpload(expectedSHA256Hex: claimed)
            try await Self.feed(upload, blob, pieces: [1 << 20])
            await #expect(throws: S3BlobStoreError.digestMismatch(expected: claimed, actual: Self.hex(blob))) {
                try await upload.commit()
            }
            #expect(try await client.listAllObjects(prefix: "r/").isEmpty)
            #expect(try await store.size(sha256Hex: claimed) == nil)
            await #expect(throws: S3BlobStoreError.uploadFinished) { try await upload.append(ByteBuffer(bytes: [1])) }
        }
    }

    @Test func presignedBlobURL() async throws {
        try await S3ClientTests.withServer { _, client in
            let store = S3BlobStore(client: client, rootDirectory: "p", chunkSize: 5 << 20)
            let blob = Array("presigned blob".utf8)
            let upload = try store.startUpload(expectedSHA256Hex: Self.hex(blob))
            try await upload.append(ByteBuffer(bytes: blob))
            try await upload.commit()
            let url = store.presignedURL(sha256Hex: Self.hex(blob), expires: 60)
            #expect(url.contains("/p/docker/registry/v2/blobs/sha256/"))
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(60))
            #expect(response.status.code == 200)
            #expect(Array(try await response.body.collect(upTo: 1 << 20).readableBytesView) == blob)
        }
    }
}
