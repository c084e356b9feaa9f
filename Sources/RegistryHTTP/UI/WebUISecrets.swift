// The web page's per-process secret: signs session cookies and CSRF tokens
// with HMAC-SHA256. A restart invalidates every session and token.
//
// Thread safety: immutable after init; Sendable.
// Invariants:
//   1. The key is 32 bytes from the system CSPRNG (getrandom), never logged
//      or written anywhere.
//   2. A session is `b64url(user).expiry.hex(HMAC(key, "session" 0 user 0 expiry))`;
//      it verifies only unexpired and with a matching MAC (compared in
//      constant time).
//   3. A CSRF token is `hex(HMAC(key, "csrf" 0 user 0 nonce))`: bound to the
//      viewer and to the browser's `berth_csrf` nonce cookie.

import CASEngine
import Foundation

struct WebUISecrets: Sendable {
    let key: [UInt8]
    /// Seconds a login lasts.
    static let sessionLifetime: UInt64 = 12 * 3600

    init() {
        var rng = SystemRandomNumberGenerator()
        key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    static func hmac(_ key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var k = key.count > 64 ? BlobDigest.compute(key, .sha256).bytes : key
        k += [UInt8](repeating: 0, count: 64 - k.count)
        let inner = BlobDigest.compute(k.map { $0 ^ 0x36 } + message, .sha256).bytes
        return BlobDigest.compute(k.map { $0 ^ 0x5c } + inner, .sha256).bytes
    }

    func mac(_ parts: [String]) -> String {
        Self.hex(Self.hmac(key, Array(parts.joined(separator: "\u{0}").utf8)))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in x.indices { diff |= x[i] ^ y[i] }
        return diff == 0
    }

    func session(user: String, now: UInt64) -> String {
        let expiry = String(now + Self.sessionLifetime)
        let name = Data(user.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return "\(name).\(expiry).\(mac(["session", user, expiry]))"
    }

    /// The user a session cookie names; nil when forged, malformed or expired.
    func verifySession(_ value: String, now: UInt64) -> String? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let expiry = UInt64(parts[1]), expiry > now else { return nil }
        var b64 = parts[0].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64), let user = String(data: data, encoding: .utf8), !user.isEmpty else { return nil }
        return Self.constantTimeEqual(String(parts[2]), mac(["session", user, String(parts[1])])) ? user : nil
    }

    func csrfToken(user: String?, nonce: String) -> String { mac(["csrf", user ?? "", nonce]) }

    static func newNonce() -> String {
        var rng = SystemRandomNumberGenerator()
        return hex((0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }
}
