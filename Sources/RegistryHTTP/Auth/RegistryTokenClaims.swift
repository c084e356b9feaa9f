// The claim set of a registry bearer token (spec-auth-jwt.md).
//
// Thread safety: value type, Sendable.
// Invariants:
//   1. `aud` may be a string or a list (RFC 7519 §4.1.3); both decode.
//   2. Time checks are not done in `verify(using:)` but by TokenAuthorizer,
//      which applies the leeway and reports which check failed.

import Foundation
import JWTKit

struct RegistryTokenClaims: JWTPayload {
    struct ResourceActions: Codable, Sendable, Equatable {
        var type: String
        var name: String
        var actions: [String]

        init(type: String, name: String, actions: [String]) {
            self.type = type
            self.name = name
            self.actions = actions
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            type = try c.decode(String.self, forKey: .type)
            name = try c.decode(String.self, forKey: .name)
            actions = try c.decodeIfPresent([String].self, forKey: .actions) ?? []
        }
    }

    var iss: String?
    var sub: String?
    var aud: [String]
    var exp: Double?
    var nbf: Double?
    var iat: Double?
    var jti: String?
    var access: [ResourceActions]

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, nbf, iat, jti, access
    }

    init(iss: String?, sub: String?, aud: [String], exp: Double?, nbf: Double?, iat: Double? = nil,
         jti: String? = nil, access: [ResourceActions]) {
        self.iss = iss
        self.sub = sub
        self.aud = aud
        self.exp = exp
        self.nbf = nbf
        self.iat = iat
        self.jti = jti
        self.access = access
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        iss = try c.decodeIfPresent(String.self, forKey: .iss)
        sub = try c.decodeIfPresent(String.self, forKey: .sub)
        if let one = try? c.decodeIfPresent(String.self, forKey: .aud) {
            aud = [one]
        } else {
            aud = try c.decodeIfPresent([String].self, forKey: .aud) ?? []
        }
        exp = try c.decodeIfPresent(Double.self, forKey: .exp)
        nbf = try c.decodeIfPresent(Double.self, forKey: .nbf)
        iat = try c.decodeIfPresent(Double.self, forKey: .iat)
        jti = try c.decodeIfPresent(String.self, forKey: .jti)
        access = try c.decodeIfPresent([ResourceActions].self, forKey: .access) ?? []
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(iss, forKey: .iss)
        try c.encodeIfPresent(sub, forKey: .sub)
        if aud.count == 1 { try c.encode(aud[0], forKey: .aud) } else { try c.encode(aud, forKey: .aud) }
        try c.encodeIfPresent(exp, forKey: .exp)
        try c.encodeIfPresent(nbf, forKey: .nbf)
        try c.encodeIfPresent(iat, forKey: .iat)
        try c.encodeIfPresent(jti, forKey: .jti)
        try c.encode(access, forKey: .access)
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}

    /// True when every action of `scope` is granted for its resource.
    func grants(_ scope: AccessScope) -> Bool {
        scope.actions.allSatisfy { action in
            access.contains { $0.type == scope.type && $0.name == scope.name && $0.actions.contains(action) }
        }
    }
}
