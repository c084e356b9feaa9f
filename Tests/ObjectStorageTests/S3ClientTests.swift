import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
@testable import ObjectStorage

/// The S3 client against a real SeaweedFS S3 gateway that checks signatures.
@Suite(.serialized) struct S3ClientTests {
    static func withServer(_ body: (SeaweedFS, S3Client) async throws -> Void) async throws {
        let server = try await SeaweedFS.start()
        defer { server.stop() }
        let client = S3Client(server.configuration())
        do {
            try await body(server, client)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    static func bytes(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &+ ($0 >> 10)) }
    }

    static func collect(_ object: S3ObjectStream) async throws -> [UInt8] {
        var out: [UInt8] = []
        for try await chunk in object.body { out += Array(chunk.readableBytesView) }
        return out
    }

    static func stream(_ bytes: [UInt8], chunk: Int = 64 << 10) -> S3Body {
        .stream(length: Int64(bytes.count)) {
            AsyncThrowingStream { continuation in
                var offset = 0
                while offset < bytes.count {
                    let end = min(offset + chunk, bytes.count)
                    continuation.yield(ByteBuffer(bytes: bytes[offset..<end]))
                    offset = end
                }
                continuation.finish()
            }
        }
    }

    @Test func objectsRoundTripWithOddKeys() async throws {
        try await Self.withServer { _, client in
            let keys = ["plain", "with space/and+plus", "ünïcødé/日本語", "tilde~under_score-dash.dot", "a&b=c?d;e"]
            for (i, key) in keys.enumerated() {
                let content = Self.bytes(1000 + i * 77, seed: UInt8(i))
                let body: S3Body = i % 2 == 0 ? .bytes(content) : Self.stream(content, chunk: 100)
                try await client.putObject(key, body: body)
                let info = try #require(try await client.headObject(key))
                #expect(info.size == Int64(content.count))
                #expect(try await Self.collect(client.getObject(key)) == content, "\(key)")
            }
            // Range: inclusive offsets; info.size is the whole object.
            let ranged = try await client.getObject(keys[1], range: 10...19)
            #expect(ranged.contentLength == 10 && ranged.info.size == 1077)
            #expect(try await Self.collect(ranged) == Array(Self.bytes(1077, seed: 1)[10...19]))

            #expect(try await client.headObject("missing") == nil)
            await #expect {
                _ = try await client.getObject("missing")
            } throws: { ($0 as? S3Error)?.code == "NoSuchKey" && ($0 as? S3Error)?.status == 404 }

            try await client.copyObject(from: keys[2], to: "copied/" + keys[2])
            #expect(try await Self.collect(client.getObject("copied/" + keys[2])) == Self.bytes(1154, seed: 2))

            try await client.deleteObject(keys[0])
            #expect(try await client.headObject(keys[0]) == nil)
            try await client.deleteObject(keys[0])  // deleting a missing key succeeds
            let failures = try await client.deleteObjects(Array(keys[1...]))
            #expect(failures.isEmpty)
            let left = try await client.listAllObjects()
            #expect(left.map(\.key) == ["copied/" + keys[2]])
        }
    }

    @Test func listingPaginates() async throws {
        try await Self.withServer { _, client in
            let keys = (0..<23).map { String(format: "list/item-%03d", $0) }
            for key in keys { try await client.putObject(key, body: .bytes(Array(key.utf8))) }
            try await client.putObject("other/x", body: .bytes([1]))
            let first = try await client.listObjectsV2(prefix: "list/", maxKeys: 10)
            #expect(first.objects.count == 10 && first.isTruncated && first.nextContinuationToken != nil)
            let all = try await client.listAllObjects(prefix: "list/", pageSize: 7)
            #expect(all.map(\.key) == keys)
            #expect(all.allSatisfy { $0.size == Int64($0.key.utf8.count) })
            let top = try await client.listObjectsV2(delimiter: "/")
            #expect(Set(top.commonPrefixes) == ["list/", "other/"])
        }
    }

    @Test func multipartUploadAndCopy() async throws {
        try await Self.withServer { _, client in
            let part1 = Self.bytes(Int(S3Client.minimumPartSize), seed: 1)
            let part2 = Self.bytes(Int(S3Client.minimumPartSize), seed: 2)
            let part3 = Self.bytes(12345, seed: 3)
            let key = "multi part/ü"
            let id = try await client.createMultipartUpload(key)
            var parts: [S3Part] = []
            parts.append(try await client.uploadPart(key, uploadID: id, number: 1, body: Self.stream(part1)))
            parts.append(try await client.uploadPart(key, uploadID: id, number: 2, body: .bytes(part2)))
            parts.append(try await client.uploadPart(key, uploadID: id, number: 3, body: Self.stream(part3, chunk: 1000)))
            let listed = try await client.listParts(key, uploadID: id)
            #expect(listed.map(\.number) == [1, 2, 3])
            #expect(listed.map(\.size) == [Int64(part1.count), Int64(part2.count), Int64(part3.count)])
            try await client.completeMultipartUpload(key, uploadID: id, parts: parts)
            let whole = part1 + part2 + part3
            #expect(try await Self.collect(client.getObject(key)) == whole)

            // Multipart server-side copy above the threshold, 2 parts at a time.
            try await client.copyObjectMultipart(from: key, to: "copy/dst", size: Int64(whole.count),
                                                 threshold: 1 << 20, chunkSize: S3Client.minimumPartSize, concurrency: 2)
            #expect(try await Self.collect(client.getObject("copy/dst")) == whole)
            // UploadPartCopy of a range into a fresh upload.
            let id2 = try await client.createMultipartUpload("copy/range")
            let copied = try await client.uploadPartCopy("copy/range", uploadID: id2, number: 1, source: key, range: 100...199)
            try await client.completeMultipartUpload("copy/range", uploadID: id2, parts: [copied])
            #expect(try await Self.collect(client.getObject("copy/range")) == Array(whole[100...199]))

            // Abort: the upload's parts are gone and its id is unknown.
            let id3 = try await client.createMultipartUpload("aborted")
            _ = try await client.uploadPart("aborted", uploadID: id3, number: 1, body: .bytes([1, 2, 3]))
            try await client.abortMultipartUpload("aborted", uploadID: id3)
            await #expect {
                _ = try await client.listParts("aborted", uploadID: id3)
            } throws: { ($0 as? S3Error)?.code == "NoSuchUpload" }
            #expect(try await client.headObject("aborted") == nil)
        }
    }

    @Test func tooSmallMiddlePartIsEntityTooSmall() async throws {
        try await Self.withServer { _, client in
            let id = try await client.createMultipartUpload("small")
            let p1 = try await client.uploadPart("small", uploadID: id, number: 1, body: .bytes(Self.bytes(1000, seed: 1)))
            let p2 = try await client.uploadPart("small", uploadID: id, number: 2, body: .bytes(Self.bytes(1000, seed: 2)))
            await #expect {
                try await client.completeMultipartUpload("small", uploadID: id, parts: [p1, p2])
            } throws: { error in
                guard let error = error as? S3Error else { return false }
                return error.kind == .service && error.code == "EntityTooSmall" && error.status == 400 && error.attempts == 1
            }
            try await client.abortMultipartUpload("small", uploadID: id)
        }
    }

    @Test func wrongSecretIsSignatureDoesNotMatch() async throws {
        try await Self.withServer { server, _ in
            let wrong = S3Client(server.configuration(secretKey: "not-the-secret"))
            await #expect {
                try await wrong.putObject("k", body: .bytes([1]))
            } throws: { error in
                guard let error = error as? S3Error else { return false }
                return error.code == "SignatureDoesNotMatch" && error.status == 403 && error.attempts == 1
                    && error.description.contains("SignatureDoesNotMatch")
            }
            try await wrong.shutdown()
        }
    }

    @Test func presignedURLFetchesWithoutCredentials() async throws {
        try await Self.withServer { server, client in
            let content = Self.bytes(4321, seed: 9)
            try await client.putObject("shared/ü file", body: .bytes(content))
            let url = client.presignedGetURL("shared/ü file", expires: 300)
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(60))
            #expect(response.status.code == 200)
            #expect(Array(try await response.body.collect(upTo: 1 << 20).readableBytesView) == content)
            // A tampered signature is refused.
            let tampered = String(url.dropLast()) + (url.hasSuffix("0") ? "1" : "0")
            let refused = try await HTTPClient.shared.execute(HTTPClientRequest(url: tampered), timeout: .seconds(60))
            _ = try await refused.body.collect(upTo: 1 << 20)
            #expect(refused.status.code == 403)
        }
    }

    @Test func stoppedServerIsAConnectionErrorAfterRetries() async throws {
        let server = try await SeaweedFS.start()
        var config = server.configuration()
        config.maxAttempts = 3
        server.stop()
        let client = S3Client(config)
        await #expect {
            _ = try await client.headObject("anything")
        } throws: { error in
            guard let error = error as? S3Error else { return false }
            return error.kind == .connection && error.code == "ConnectionFailed" && error.attempts == 3
                && error.description.contains("127.0.0.1:\(server.s3Port)")
        }
        try await client.shutdown()
    }
}
