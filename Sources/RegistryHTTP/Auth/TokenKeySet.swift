// The public keys that may sign registry tokens: certificates from
// `rootcertbundle` (their public keys) and keys from a `jwks` file.
//
// Thread safety: immutable after load; JWTKeyCollection is an actor.
// Invariants:
//   1. Each key is held in its own JWTKeyCollection per algorithm it can
//      verify, so a token's `alg` can only select a key of the matching type
//      (no RSA/ECDSA/HMAC confusion); symmetric (HS*) and `none` never verify.
//   2. A token with an `x5c` header is verified only through its chain
//      (leaf must chain to a rootcertbundle certificate; jwt-kit X5CVerifier).
//   3. A token `kid` selects the keys with that kid plus keys without one
//      (certificates); distribution's libtrust key ids are not computed.

import Foundation
import JWTKit

struct TokenKeySet: Sendable {
    struct Key: Sendable {
        var kid: String?
        var origin: String
        var verifiers: [String: JWTKeyCollection]
    }

    typealias LoadError = TokenAuthorizer.LoadError

    /// distribution's default minus the HMAC algorithms (a public key file
    /// cannot hold an HMAC secret, and accepting HS* invites key confusion).
    static let defaultAlgorithms = ["EdDSA", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                                    "ES256", "ES384", "ES512"]

    var keys: [Key] = []
    /// Verifies tokens that carry an `x5c` chain up to a rootcertbundle certificate.
    var chainVerifier: X5CVerifier?

    static func load(rootCertBundle: String?, jwks: String?) async throws -> TokenKeySet {
        var set = TokenKeySet()
        if let path = rootCertBundle {
            let text = try read(path, what: "rootcertbundle")
            let pems = certificates(in: text)
            if pems.isEmpty { throw LoadError(description: "rootcertbundle \(path) contains no PEM certificate") }
            for (index, pem) in pems.enumerated() {
                guard let key = try await certificateKey(pem, origin: "\(path)#\(index + 1)") else {
                    throw LoadError(description: "rootcertbundle \(path): certificate \(index + 1) has no supported public key (RSA, P-256, P-384, P-521)")
                }
                set.keys.append(key)
            }
            do {
                set.chainVerifier = try X5CVerifier(rootCertificates: pems)
            } catch {
                throw LoadError(description: "rootcertbundle \(path): \(error)")
            }
        }
        if let path = jwks {
            let text = try read(path, what: "jwks")
            let decoded: JWKS
            do {
                decoded = try JSONDecoder().decode(JWKS.self, from: Data(text.utf8))
            } catch {
                throw LoadError(description: "jwks \(path) is not a JSON Web Key Set: \(error)")
            }
            if decoded.keys.isEmpty { throw LoadError(description: "jwks \(path) contains no keys") }
            for (index, jwk) in decoded.keys.enumerated() {
                set.keys.append(try await jwkKey(jwk, origin: "\(path)#\(index + 1)"))
            }
        }
        return set
    }

    /// Keys to try for a token header's `kid`.
    func candidates(kid: String?, alg: String) -> [JWTKeyCollection] {
        let usable = keys.filter { $0.verifiers[alg] != nil }
        guard let kid else { return usable.compactMap { $0.verifiers[alg] } }
        let exact = usable.filter { $0.kid == kid }
        let anonymous = usable.filter { $0.kid == nil }
        return (exact + anonymous).compactMap { $0.verifiers[alg] }
    }

    private static func read(_ path: String, what: String) throws -> String {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return String(decoding: data, as: UTF8.self)
        } catch {
            throw LoadError(description: "cannot read \(what) \(path): \((error as NSError).localizedDescription)")
        }
    }

    static func certificates(in text: String) -> [String] {
        var result: [String] = []
        var current: [Substring]?
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed == "-----BEGIN CERTIFICATE-----" { current = [] }
            if current != nil { current!.append(Substring(trimmed)) }
            if trimmed == "-----END CERTIFICATE-----", let lines = current {
                result.append(lines.joined(separator: "\n") + "\n")
                current = nil
            }
        }
        return result
    }

    private static func certificateKey(_ pem: String, origin: String) async throws -> Key? {
        var verifiers: [String: JWTKeyCollection] = [:]
        if let key = try? ES256PublicKey(certificate: pem) {
            verifiers["ES256"] = await JWTKeyCollection().add(ecdsa: key)
        } else if let key = try? ES384PublicKey(certificate: pem) {
            verifiers["ES384"] = await JWTKeyCollection().add(ecdsa: key)
        } else if let key = try? ES512PublicKey(certificate: pem) {
            verifiers["ES512"] = await JWTKeyCollection().add(ecdsa: key)
        } else if let key = try? Insecure.RSA.PublicKey(certificatePEM: pem) {
            for (name, digest) in [("256", DigestAlgorithm.sha256), ("384", .sha384), ("512", .sha512)] {
                verifiers["RS" + name] = await JWTKeyCollection().add(rsa: key, digestAlgorithm: digest)
                verifiers["PS" + name] = await JWTKeyCollection().add(pss: key, digestAlgorithm: digest)
            }
        } else {
            return nil
        }
        return Key(kid: nil, origin: origin, verifiers: verifiers)
    }

    private static func jwkKey(_ jwk: JWK, origin: String) async throws -> Key {
        var algorithms: [String]
        if let alg = jwk.algorithm?.rawValue {
            algorithms = [alg]
        } else {
            switch jwk.keyType.rawValue {
            case "RSA": algorithms = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
            case "EC":
                switch jwk.curve?.rawValue {
                case "P-256": algorithms = ["ES256"]
                case "P-384": algorithms = ["ES384"]
                case "P-521": algorithms = ["ES512"]
                default: throw LoadError(description: "jwks \(origin): unsupported EC curve")
                }
            case "OKP": algorithms = ["EdDSA"]
            default: throw LoadError(description: "jwks \(origin): unsupported key type \(jwk.keyType.rawValue)")
            }
        }
        var verifiers: [String: JWTKeyCollection] = [:]
        for alg in algorithms where defaultAlgorithms.contains(alg) {
            var copy = jwk
            copy.algorithm = JWK.Algorithm(rawValue: alg)
            do {
                verifiers[alg] = try await JWTKeyCollection().add(jwk: copy)
            } catch {
                throw LoadError(description: "jwks \(origin): \(error)")
            }
        }
        if verifiers.isEmpty { throw LoadError(description: "jwks \(origin): no asymmetric signing algorithm for this key") }
        return Key(kid: jwk.keyIdentifier?.string, origin: origin, verifiers: verifiers)
    }
}
