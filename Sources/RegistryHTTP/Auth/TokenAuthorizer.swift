// `auth.token`: bearer tokens from an external token service
// (spec-auth-token.md, spec-auth-jwt.md, spec-auth-scope.md).
//
// Thread safety: immutable, Sendable.
// Invariants:
//   1. The header's `alg` must be in `signingalgorithms` (never `none`, never
//      HS*), and only keys of that algorithm's type are tried (TokenKeySet).
//   2. The signature is checked by jwt-kit before any claim is trusted; then
//      `iss` == issuer, `aud` contains service, `exp` present and not past,
//      `nbf` not in the future, both with `leeway`.
//   3. Every scope the request needs must be granted by the `access` claim;
//      otherwise 401 with `error="insufficient_scope"` (distribution answers
//      401, not 403, so clients fetch a new token).
//   4. Tokens are never logged.

import Foundation
import JWTKit
import Logging
import NIOHTTP1
import RegistryConfig

public final class TokenAuthorizer: RequestAuthorizer {
    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    let realm: String
    let service: String
    let issuer: String
    let algorithms: Set<String>
    let keys: TokenKeySet
    let leeway: Double
    let logger: Logger
    let now: @Sendable () -> Date

    enum Failure: Error, Equatable {
        case malformed, algorithm, signature, issuer, audience, expired, notYetValid
    }

    /// - Throws: `LoadError` for unreadable or empty key files and unknown algorithms.
    public static func make(_ config: RegistryConfiguration.Auth.Token, leeway: Double = 60, logger: Logger,
                            now: @escaping @Sendable () -> Date = { Date() }) async throws -> TokenAuthorizer {
        let keys = try await TokenKeySet.load(rootCertBundle: config.rootCertBundle, jwks: config.jwks)
        var algorithms = Set(config.signingAlgorithms.isEmpty ? TokenKeySet.defaultAlgorithms : config.signingAlgorithms)
        let unsupported = algorithms.subtracting(TokenKeySet.defaultAlgorithms)
        if !unsupported.isEmpty {
            throw LoadError(description: "auth.token.signingalgorithms: \(unsupported.sorted().joined(separator: ", ")) not supported (use \(TokenKeySet.defaultAlgorithms.joined(separator: ", ")))")
        }
        algorithms.remove("none")
        return TokenAuthorizer(realm: config.realm, service: config.service, issuer: config.issuer,
                               algorithms: algorithms, keys: keys, leeway: leeway, logger: logger, now: now)
    }

    init(realm: String, service: String, issuer: String, algorithms: Set<String>, keys: TokenKeySet,
         leeway: Double, logger: Logger, now: @escaping @Sendable () -> Date) {
        self.realm = realm
        self.service = service
        self.issuer = issuer
        self.algorithms = algorithms
        self.keys = keys
        self.leeway = leeway
        self.logger = logger
        self.now = now
    }

    public func authorize(_ request: AuthorizationRequest) async -> AuthorizationDecision {
        let scopes = AccessScope.required(by: request)
        guard let token = Self.bearerToken(request.headers.first(name: "Authorization")) else {
            return challenge(scopes, error: nil)
        }
        let claims: RegistryTokenClaims
        do {
            claims = try await verify(token)
        } catch {
            logger.notice("bearer token rejected", metadata: [
                "reason": "\(error)", "remote": "\(LoginRateLimiter.clientAddress(request.peer))",
            ])
            return challenge(scopes, error: "invalid_token")
        }
        guard scopes.allSatisfy(claims.grants) else {
            return challenge(scopes, error: "insufficient_scope")
        }
        return .allow(user: claims.sub.flatMap { $0.isEmpty ? nil : $0 })
    }

    func challenge(_ scopes: [AccessScope], error: String?) -> AuthorizationDecision {
        var value = "Bearer realm=\(HtpasswdAuthorizer.quoted(realm)),service=\(HtpasswdAuthorizer.quoted(service))"
        if !scopes.isEmpty {
            value += ",scope=\(HtpasswdAuthorizer.quoted(scopes.map(\.description).joined(separator: " ")))"
        }
        if let error { value += ",error=\"\(error)\"" }
        return .challenge(headers: ["WWW-Authenticate": value])
    }

    static func bearerToken(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty || token.utf8.count > 16_384 ? nil : token
    }

    func verify(_ token: String) async throws -> RegistryTokenClaims {
        let header = try Self.header(of: token)
        guard let alg = header.alg, alg != "none", algorithms.contains(alg) else { throw Failure.algorithm }
        var claims: RegistryTokenClaims?
        if let chain = header.x5c {
            guard !chain.isEmpty, let verifier = keys.chainVerifier else { throw Failure.signature }
            claims = try? await verifier.verifyJWS(token, as: RegistryTokenClaims.self)
        } else {
            for collection in keys.candidates(kid: header.kid, alg: alg) {
                if let verified = try? await collection.verify(token, as: RegistryTokenClaims.self) {
                    claims = verified
                    break
                }
            }
        }
        guard let claims else { throw Failure.signature }
        guard claims.iss == issuer else { throw Failure.issuer }
        guard claims.aud.contains(service) else { throw Failure.audience }
        let t = now().timeIntervalSince1970
        guard let exp = claims.exp, t <= exp + leeway else { throw Failure.expired }
        if let nbf = claims.nbf, t + leeway < nbf { throw Failure.notYetValid }
        return claims
    }

    struct Header: Decodable {
        var alg: String?
        var kid: String?
        var x5c: [String]?
    }

    static func header(of token: String) throws -> Header {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = base64URLDecode(parts[0]) else { throw Failure.malformed }
        do {
            return try JSONDecoder().decode(Header.self, from: data)
        } catch {
            throw Failure.malformed
        }
    }

    static func base64URLDecode(_ s: Substring) -> Data? {
        var b = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b.count % 4 != 0 { b += "=" }
        return Data(base64Encoded: b)
    }
}
