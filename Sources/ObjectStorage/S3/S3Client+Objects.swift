// Single-object operations and listing: PutObject, GetObject (ranged,
// streamed), HeadObject, DeleteObject, DeleteObjects, CopyObject,
// ListObjectsV2, and presigned GET URLs.
//
// Thread safety: see S3Client.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

public struct S3ObjectInfo: Sendable, Equatable {
    public var key: String
    /// Whole object size (from Content-Range for ranged reads).
    public var size: Int64
    public var etag: String
    public var lastModified: Date?
    public var contentType: String?
}

/// A GetObject answer whose body the caller streams.
public struct S3ObjectStream: Sendable {
    public var info: S3ObjectInfo
    /// Bytes in this answer (the range length for ranged reads).
    public var contentLength: Int64
    public var body: HTTPClientResponse.Body
}

public struct S3ListPage: Sendable {
    public var objects: [S3ObjectInfo]
    public var commonPrefixes: [String]
    public var nextContinuationToken: String?
    public var isTruncated: Bool
}

public struct S3DeleteFailure: Sendable, Equatable, Error {
    public var key: String
    public var code: String
    public var message: String
}

extension S3Client {
    @discardableResult
    public func putObject(_ key: String, body: S3Body, contentType: String = "application/octet-stream") async throws -> String {
        let call = Call(method: .PUT, key: key, headers: [("Content-Type", contentType)] + writeHeaders, body: body)
        let response = try await send(call)
        _ = try await readBody(response, operation: call.name, limit: 1 << 20)
        return response.headers.first(name: "etag") ?? ""
    }

    /// `range`: first and last byte offsets, inclusive (HTTP Range semantics).
    public func getObject(_ key: String, range: ClosedRange<Int64>? = nil) async throws -> S3ObjectStream {
        var headers: [(String, String)] = []
        if let range { headers.append(("Range", "bytes=\(range.lowerBound)-\(range.upperBound)")) }
        let response = try await send(Call(method: .GET, key: key, headers: headers, streamsResponse: true))
        let length = Int64(response.headers.first(name: "content-length") ?? "") ?? -1
        var info = Self.objectInfo(key, response.headers)
        if let contentRange = response.headers.first(name: "content-range"),
           let total = contentRange.split(separator: "/").last.flatMap({ Int64($0) }) {
            info.size = total
        }
        return S3ObjectStream(info: info, contentLength: length, body: response.body)
    }

    /// nil when there is no such object.
    public func headObject(_ key: String) async throws -> S3ObjectInfo? {
        let response = try await send(Call(method: .HEAD, key: key), accept: [404])
        if response.status.code == 404 { return nil }
        return Self.objectInfo(key, response.headers)
    }

    /// Deleting a missing key succeeds (S3 answers 204 either way).
    public func deleteObject(_ key: String) async throws {
        let response = try await send(Call(method: .DELETE, key: key))
        _ = try await readBody(response, operation: "DELETE \(key)", limit: 1 << 20)
    }

    /// DeleteObjects in batches of 1000 (S3's limit); returns the keys S3
    /// refused to delete, each with its code.
    public func deleteObjects(_ keys: [String]) async throws -> [S3DeleteFailure] {
        var failures: [S3DeleteFailure] = []
        var start = 0
        while start < keys.count {
            let batch = keys[start..<min(start + 1000, keys.count)]
            start += batch.count
            var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete><Quiet>true</Quiet>"
            for key in batch { xml += "<Object><Key>\(XMLNode.escape(key))</Key></Object>" }
            xml += "</Delete>"
            let bytes = Array(xml.utf8)
            let md5 = Data(MD5.digest(bytes)).base64EncodedString()
            let (_, body) = try await sendCollecting(Call(method: .POST, key: nil, query: [("delete", "")],
                                                          headers: [("Content-Type", "application/xml"), ("Content-MD5", md5)],
                                                          body: .bytes(bytes)))
            guard let result = XMLNode.parse(body) else {
                throw S3Error(kind: .invalidResponse, code: "InvalidResponse", message: "DeleteObjects answer is not XML",
                              operation: "POST \(configuration.bucket)?delete")
            }
            for error in result.all("Error") {
                failures.append(S3DeleteFailure(key: error.text("Key") ?? "", code: error.text("Code") ?? "",
                                                message: error.text("Message") ?? ""))
            }
        }
        return failures
    }

    /// Server-side copy within the bucket (objects up to 5 GiB).
    @discardableResult
    public func copyObject(from source: String, to destination: String) async throws -> String {
        let headers = [("x-amz-copy-source", copySource(source)), ("x-amz-metadata-directive", "COPY")] + writeHeaders
        let (_, body) = try await sendCollecting(Call(method: .PUT, key: destination, headers: headers), embeddedErrors: true)
        return XMLNode.parse(body)?.text("ETag") ?? ""
    }

    public func listObjectsV2(prefix: String = "", delimiter: String? = nil, continuationToken: String? = nil,
                              startAfter: String? = nil, maxKeys: Int? = nil) async throws -> S3ListPage {
        var query: [(String, String)] = [("list-type", "2"), ("prefix", prefix)]
        if let delimiter { query.append(("delimiter", delimiter)) }
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        if let startAfter { query.append(("start-after", startAfter)) }
        if let maxKeys { query.append(("max-keys", String(maxKeys))) }
        let (_, body) = try await sendCollecting(Call(method: .GET, key: nil, query: query))
        guard let xml = XMLNode.parse(body), xml.name == "ListBucketResult" else {
            throw S3Error(kind: .invalidResponse, code: "InvalidResponse", message: "ListObjectsV2 answer is not a ListBucketResult",
                          operation: "GET \(configuration.bucket)?list-type=2")
        }
        let objects = xml.all("Contents").map { item in
            S3ObjectInfo(key: item.text("Key") ?? "", size: Int64(item.text("Size") ?? "") ?? 0, etag: item.text("ETag") ?? "",
                         lastModified: item.text("LastModified").flatMap(Self.parseISO8601), contentType: nil)
        }
        let prefixes = xml.all("CommonPrefixes").compactMap { $0.text("Prefix") }
        let truncated = xml.text("IsTruncated") == "true"
        return S3ListPage(objects: objects, commonPrefixes: prefixes,
                          nextContinuationToken: xml.text("NextContinuationToken").flatMap { $0.isEmpty ? nil : $0 },
                          isTruncated: truncated)
    }

    /// Every object under `prefix`, following continuation tokens.
    public func listAllObjects(prefix: String = "", pageSize: Int? = nil) async throws -> [S3ObjectInfo] {
        var all: [S3ObjectInfo] = []
        var token: String?
        repeat {
            let page = try await listObjectsV2(prefix: prefix, continuationToken: token, maxKeys: pageSize)
            all += page.objects
            token = page.isTruncated ? page.nextContinuationToken : nil
            if page.isTruncated && token == nil {
                throw S3Error(kind: .invalidResponse, code: "InvalidResponse",
                              message: "truncated listing without NextContinuationToken", operation: "GET \(configuration.bucket)?list-type=2")
            }
        } while token != nil
        return all
    }

    /// A URL anyone can GET for `expires` seconds (1 ... 604800).
    public func presignedGetURL(_ key: String, expires: Int, date: Date = Date()) -> String {
        let request = SigV4Request(method: "GET", scheme: configuration.scheme, host: configuration.hostHeader,
                                   path: configuration.path(for: key))
        return signer.presign(request, expires: expires, date: date).url
    }

    func copySource(_ key: String) -> String {
        "/" + URIEncoding.encodePath(configuration.bucket) + "/" + URIEncoding.encodePath(key)
    }

    static func objectInfo(_ key: String, _ headers: HTTPHeaders) -> S3ObjectInfo {
        S3ObjectInfo(key: key, size: Int64(headers.first(name: "content-length") ?? "") ?? 0,
                     etag: headers.first(name: "etag") ?? "",
                     lastModified: headers.first(name: "last-modified").flatMap(parseHTTPDate),
                     contentType: headers.first(name: "content-type"))
    }

    static func parseISO8601(_ text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return withFraction.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }

    static func parseHTTPDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}
