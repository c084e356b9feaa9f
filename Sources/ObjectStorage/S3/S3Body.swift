// A request body for the S3 client: bytes in memory, or a stream of known
// length that the client can restart for a retry.
//
// Thread safety: Sendable value; the stream factory must be callable from
// any task and yield the same bytes on every call.

import AsyncHTTPClient
import NIOCore

public struct S3Body: Sendable {
    enum Storage: Sendable {
        case bytes(ByteBuffer)
        case stream(length: Int64, make: @Sendable () -> AsyncThrowingStream<ByteBuffer, Error>)
    }

    let storage: Storage
    /// Hex SHA-256 of the body when known (signed); nil sends UNSIGNED-PAYLOAD.
    let sha256Hex: String?

    /// In-memory bytes; their SHA-256 is signed.
    public static func bytes(_ buffer: ByteBuffer) -> S3Body {
        let hash = buffer.withUnsafeReadableBytes { raw -> String in
            let h = SHA256Stream()
            h.update(raw)
            return h.finalizeHex()
        }
        return S3Body(storage: .bytes(buffer), sha256Hex: hash)
    }

    public static func bytes(_ bytes: [UInt8]) -> S3Body { .bytes(ByteBuffer(bytes: bytes)) }

    public static var empty: S3Body { .bytes(ByteBuffer()) }

    /// A streamed body of exactly `length` bytes (sent with Content-Length).
    /// `make` is called once per attempt; each call must yield the same bytes.
    /// With `sha256Hex` nil the payload is sent as UNSIGNED-PAYLOAD.
    public static func stream(length: Int64, sha256Hex: String? = nil,
                              make: @escaping @Sendable () -> AsyncThrowingStream<ByteBuffer, Error>) -> S3Body {
        S3Body(storage: .stream(length: length, make: make), sha256Hex: sha256Hex)
    }

    var length: Int64 {
        switch storage {
        case .bytes(let buffer): return Int64(buffer.readableBytes)
        case .stream(let length, _): return length
        }
    }

    var isStreamed: Bool { if case .stream = storage { return true } else { return false } }

    func httpBody() -> HTTPClientRequest.Body {
        switch storage {
        case .bytes(let buffer): return .bytes(buffer)
        case .stream(let length, let make): return .stream(make(), length: .known(length))
        }
    }
}
