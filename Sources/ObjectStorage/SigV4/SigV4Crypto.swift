// SHA-256 and HMAC-SHA256 for request signing, through OpenSSL (COpenSSL).
//
// Thread safety: stateless functions; `SHA256Stream` is not thread-safe (one
// EVP_MD_CTX mutated by `update`), its owner serialises use.
// Invariants:
//   1. Every OpenSSL failure is a fatalError: these calls only fail on
//      allocation failure or a broken OpenSSL build, never on input.

import COpenSSL

enum SigV4Crypto {
    static func sha256(_ bytes: some Collection<UInt8>) -> [UInt8] {
        let h = SHA256Stream()
        h.update(Array(bytes))
        return h.finalize()
    }

    static func sha256Hex(_ bytes: some Collection<UInt8>) -> String { hex(sha256(bytes)) }

    static func sha256Hex(_ string: String) -> String { sha256Hex(Array(string.utf8)) }

    static func hmacSHA256(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                HMAC(EVP_sha256(), k.baseAddress, Int32(k.count),
                     m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count, &out, &length)
            }
        }
        guard result != nil, length == 32 else { fatalError("OpenSSL: HMAC-SHA256 failed") }
        return Array(out[0..<32])
    }

    static func hmacSHA256(key: [UInt8], _ message: String) -> [UInt8] { hmacSHA256(key: key, Array(message.utf8)) }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Incremental SHA-256 of a payload that arrives in pieces.
public final class SHA256Stream {
    private let ctx: OpaquePointer

    public init() {
        guard let ctx = EVP_MD_CTX_new(), EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1 else {
            fatalError("OpenSSL: SHA-256 init failed")
        }
        self.ctx = ctx
    }

    deinit { EVP_MD_CTX_free(ctx) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        guard EVP_DigestUpdate(ctx, bytes.baseAddress, bytes.count) == 1 else { fatalError("OpenSSL: SHA-256 update failed") }
    }

    public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The 32-byte digest; call once.
    public func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(ctx, &out, &length) == 1, length == 32 else { fatalError("OpenSSL: SHA-256 final failed") }
        return out
    }

    public func finalizeHex() -> String { SigV4Crypto.hex(finalize()) }
}

/// MD5 for S3's Content-MD5 header (DeleteObjects requires one); not a
/// security primitive here.
enum MD5 {
    static func digest(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { raw in EVP_Digest(raw.baseAddress, raw.count, &out, &length, EVP_md5(), nil) }
        guard ok == 1, length == 16 else { fatalError("OpenSSL: MD5 failed") }
        return out
    }
}
