// The one error type handlers throw, and the one place error JSON is rendered.
//
// Thread safety: value type, Sendable.
// Invariants:
//   1. Every error a request can produce becomes a `RegistryError` through
//      `RegistryError.from(_:)` (RegistryError+Mapping.swift); handlers never
//      build error bodies themselves.
//   2. `internalError` is the only code that maps to 5xx; it is always logged
//      by the connection before the response goes out, and never becomes 404.

import NIOCore
import NIOHTTP1

public struct RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// OCI Distribution error codes (spec.md "Error Codes"), plus the two
    /// non-OCI codes distribution itself emits (`RANGE`, `INTERNAL`).
    public enum Code: String, Sendable, CaseIterable {
        case blobUnknown = "BLOB_UNKNOWN"
        case blobUploadInvalid = "BLOB_UPLOAD_INVALID"
        case blobUploadUnknown = "BLOB_UPLOAD_UNKNOWN"
        case digestInvalid = "DIGEST_INVALID"
        case manifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN"
        case manifestInvalid = "MANIFEST_INVALID"
        case manifestUnknown = "MANIFEST_UNKNOWN"
        case nameInvalid = "NAME_INVALID"
        case nameUnknown = "NAME_UNKNOWN"
        case sizeInvalid = "SIZE_INVALID"
        case unauthorized = "UNAUTHORIZED"
        case denied = "DENIED"
        case unsupported = "UNSUPPORTED"
        case tooManyRequests = "TOO_MANY_REQUESTS"
        case rangeInvalid = "RANGE_INVALID"
        case paginationNumberInvalid = "PAGINATION_NUMBER_INVALID"
        case internalError = "INTERNAL_ERROR"
        case unavailable = "UNAVAILABLE"
        /// Berth's tag extension (docs/EXTENSIONS.md): a request body or tag
        /// chain the extension cannot take.
        case tagInvalid = "TAG_INVALID"
        /// Berth's tag extension: an `expect` precondition did not hold.
        case tagConflict = "TAG_CONFLICT"
        /// `berth.tags.immutable`: the request would move an immutable tag.
        case tagImmutable = "TAG_IMMUTABLE"
    }

    public let code: Code
    public let status: HTTPResponseStatus
    public let message: String
    /// Rendered as the `detail` member (a JSON string); omitted when nil.
    public let detail: String?
    /// Extra headers for this error (e.g. `Range` on a 416 upload, auth challenges).
    public var headers: [(String, String)]

    public init(_ code: Code, _ message: String? = nil, status: HTTPResponseStatus? = nil,
                detail: String? = nil, headers: [(String, String)] = []) {
        self.code = code
        self.status = status ?? code.defaultStatus
        self.message = message ?? code.defaultMessage
        self.detail = detail
        self.headers = headers
    }

    public static func == (lhs: RegistryError, rhs: RegistryError) -> Bool {
        lhs.code == rhs.code && lhs.status == rhs.status
    }

    public var description: String { "\(status.code) \(code.rawValue): \(message)" }

    /// `{"errors":[{"code":..,"message":..,"detail":..}]}`
    public var jsonBody: [UInt8] {
        var out = "{\"errors\":[{\"code\":"
        JSONText.appendString(code.rawValue, to: &out)
        out += ",\"message\":"
        JSONText.appendString(message, to: &out)
        if let detail {
            out += ",\"detail\":"
            JSONText.appendString(detail, to: &out)
        }
        out += "}]}"
        return Array(out.utf8)
    }
}

extension RegistryError.Code {
    public var defaultStatus: HTTPResponseStatus {
        switch self {
        case .blobUnknown, .blobUploadUnknown, .manifestUnknown, .nameUnknown: return .notFound
        case .blobUploadInvalid, .digestInvalid, .manifestBlobUnknown, .manifestInvalid,
             .nameInvalid, .sizeInvalid, .paginationNumberInvalid, .tagInvalid: return .badRequest
        case .tagConflict, .tagImmutable: return .conflict
        case .unauthorized: return .unauthorized
        case .denied: return .forbidden
        case .unsupported: return .methodNotAllowed
        case .tooManyRequests: return .tooManyRequests
        case .rangeInvalid: return .rangeNotSatisfiable
        case .internalError: return .internalServerError
        case .unavailable: return .serviceUnavailable
        }
    }

    public var defaultMessage: String {
        switch self {
        case .blobUnknown: return "blob unknown to registry"
        case .blobUploadInvalid: return "blob upload invalid"
        case .blobUploadUnknown: return "blob upload unknown to registry"
        case .digestInvalid: return "provided digest did not match uploaded content"
        case .manifestBlobUnknown: return "manifest references a manifest or blob unknown to registry"
        case .manifestInvalid: return "manifest invalid"
        case .manifestUnknown: return "manifest unknown"
        case .nameInvalid: return "invalid repository name"
        case .nameUnknown: return "repository name not known to registry"
        case .sizeInvalid: return "provided length did not match content length"
        case .unauthorized: return "authentication required"
        case .denied: return "requested access to the resource is denied"
        case .unsupported: return "The operation is unsupported."
        case .tooManyRequests: return "too many requests"
        case .rangeInvalid: return "invalid content range"
        case .paginationNumberInvalid: return "invalid number of results requested"
        case .internalError: return "internal server error"
        case .unavailable: return "service unavailable"
        case .tagInvalid: return "invalid tag request"
        case .tagConflict: return "a tag is not where the request expected it"
        case .tagImmutable: return "the tag is immutable"
        }
    }
}

/// Minimal JSON text helpers (no Foundation on the hot path).
enum JSONText {
    static func appendString(_ s: String, to out: inout String) {
        out.append("\"")
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append("\"")
    }

    static func string(_ s: String) -> String {
        var out = ""
        appendString(s, to: &out)
        return out
    }

    static func stringArray(_ items: [String]) -> String {
        "[" + items.map(string).joined(separator: ",") + "]"
    }
}
