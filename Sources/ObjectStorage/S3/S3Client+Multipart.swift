// Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy,
// CompleteMultipartUpload, AbortMultipartUpload, ListParts, and a
// multipart server-side copy for objects past the copy threshold.
//
// Thread safety: see S3Client.
// Invariants:
//   1. Every part but the last must be at least 5 MiB (S3's rule; servers
//      answer EntityTooSmall at completion otherwise).
//   2. Parts are completed in ascending part-number order.

import Foundation
import NIOCore

public struct S3Part: Sendable, Equatable {
    public var number: Int
    public var etag: String
    public var size: Int64

    public init(number: Int, etag: String, size: Int64 = 0) {
        self.number = number
        self.etag = etag
        self.size = size
    }
}

extension S3Client {
    public static let minimumPartSize: Int64 = 5 << 20
    public static let maximumParts = 10_000

    /// Starts a multipart upload of `key`; returns its upload id.
    public func createMultipartUpload(_ key: String, contentType: String = "application/octet-stream") async throws -> String {
        let call = Call(method: .POST, key: key, query: [("uploads", "")],
                        headers: [("Content-Type", contentType)] + writeHeaders)
        let (_, body) = try await sendCollecting(call)
        guard let id = XMLNode.parse(body)?.text("UploadId"), !id.isEmpty else {
            throw S3Error(kind: .invalidResponse, code: "InvalidResponse", message: "no UploadId in CreateMultipartUpload answer",
                          operation: call.name)
        }
        return id
    }

    /// Uploads part `number` (1 ... 10000); returns its ETag.
    public func uploadPart(_ key: String, uploadID: String, number: Int, body: S3Body) async throws -> S3Part {
        let call = Call(method: .PUT, key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)], body: body)
        let response = try await send(call)
        _ = try await readBody(response, operation: call.name, limit: 1 << 20)
        guard let etag = response.headers.first(name: "etag") else {
            throw S3Error(kind: .invalidResponse, code: "InvalidResponse", message: "UploadPart answer has no ETag", operation: call.name)
        }
        return S3Part(number: number, etag: etag, size: body.length)
    }

    /// Part `number` copied server-side from `source`'s bytes `range` (inclusive).
    public func uploadPartCopy(_ key: String, uploadID: String, number: Int, source: String,
                               range: ClosedRange<Int64>) async throws -> S3Part {
        let call = Call(method: .PUT, key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)],
                        headers: [("x-amz-copy-source", copySource(source)),
                                  ("x-amz-copy-source-range", "bytes=\(range.lowerBound)-\(range.upperBound)")])
        let (_, body) = try await sendCollecting(call, embeddedErrors: true)
        guard let etag = XMLNode.parse(body)?.text("ETag") else {
            throw S3Error(kind: .invalidResponse, code: "InvalidResponse", message: "UploadPartCopy answer has no ETag", operation: call.name)
        }
        return S3Part(number: number, etag: etag, size: range.upperBound - range.lowerBound + 1)
    }

    @discardableResult
    public func completeMultipartUpload(_ key: String, uploadID: String, parts: [S3Part]) async throws -> String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><CompleteMultipartUpload>"
        for part in parts.sorted(by: { $0.number < $1.number }) {
            xml += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(XMLNode.escape(part.etag))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let call = Call(method: .POST, key: key, query: [("uploadId", uploadID)],
                        headers: [("Content-Type", "application/xml")], body: .bytes(Array(xml.utf8)))
        do {
            let (_, body) = try await sendCollecting(call, embeddedErrors: true)
            return XMLNode.parse(body)?.text("ETag") ?? ""
        } catch let error as S3Error where error.code == "NoSuchUpload" && error.attempts > 1 {
            // A retry after an attempt whose answer was lost: that attempt
            // completed the upload if the object is now there.
            guard let info = try await headObject(key) else { throw error }
            return info.etag
        }
    }

    /// Aborting an upload that no longer exists succeeds (NoSuchUpload is
    /// what a retried abort sees).
    public func abortMultipartUpload(_ key: String, uploadID: String) async throws {
        do {
            let call = Call(method: .DELETE, key: key, query: [("uploadId", uploadID)])
            let response = try await send(call)
            _ = try await readBody(response, operation: call.name, limit: 1 << 20)
        } catch let error as S3Error where error.code == "NoSuchUpload" {
            return
        }
    }

    /// Every part uploaded so far, following the part-number marker.
    public func listParts(_ key: String, uploadID: String) async throws -> [S3Part] {
        var parts: [S3Part] = []
        var marker: String?
        repeat {
            var query = [("uploadId", uploadID)]
            if let marker { query.append(("part-number-marker", marker)) }
            let call = Call(method: .GET, key: key, query: query)
            let (_, body) = try await sendCollecting(call)
            guard let xml = XMLNode.parse(body), xml.name == "ListPartsResult" else {
                throw S3Error(kind: .invalidResponse, code: "InvalidResponse", message: "ListParts answer is not a ListPartsResult",
                              operation: call.name)
            }
            parts += xml.all("Part").map {
                S3Part(number: Int($0.text("PartNumber") ?? "") ?? 0, etag: $0.text("ETag") ?? "",
                       size: Int64($0.text("Size") ?? "") ?? 0)
            }
            marker = xml.text("IsTruncated") == "true" ? xml.text("NextPartNumberMarker") : nil
        } while marker != nil
        return parts
    }

    /// Server-side copy of `source` (of `size` bytes) to `destination`: one
    /// CopyObject below `threshold`, otherwise a multipart upload of
    /// UploadPartCopy parts of `chunkSize`, at most `concurrency` at a time
    /// (distribution's multipartcopy* settings). An error aborts the upload.
    public func copyObjectMultipart(from source: String, to destination: String, size: Int64,
                                    threshold: Int64, chunkSize: Int64, concurrency: Int) async throws {
        guard size > threshold else {
            try await copyObject(from: source, to: destination)
            return
        }
        let chunk = max(chunkSize, Self.minimumPartSize, (size + Int64(Self.maximumParts) - 1) / Int64(Self.maximumParts))
        let uploadID = try await createMultipartUpload(destination)
        do {
            let ranges = stride(from: Int64(0), to: size, by: Int(chunk)).enumerated().map { index, start in
                (index + 1, start...min(start + chunk, size) - 1)
            }
            var parts: [S3Part] = []
            try await withThrowingTaskGroup(of: S3Part.self) { group in
                var next = 0
                for _ in 0..<max(1, concurrency) where next < ranges.count {
                    let (number, range) = ranges[next]
                    next += 1
                    group.addTask { try await self.uploadPartCopy(destination, uploadID: uploadID, number: number, source: source, range: range) }
                }
                while let part = try await group.next() {
                    parts.append(part)
                    if next < ranges.count {
                        let (number, range) = ranges[next]
                        next += 1
                        group.addTask { try await self.uploadPartCopy(destination, uploadID: uploadID, number: number, source: source, range: range) }
                    }
                }
            }
            try await completeMultipartUpload(destination, uploadID: uploadID, parts: parts)
        } catch {
            try? await abortMultipartUpload(destination, uploadID: uploadID)
            throw error
        }
    }
}
