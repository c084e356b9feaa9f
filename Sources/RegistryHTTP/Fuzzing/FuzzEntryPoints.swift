// Entry points for the libFuzzer harnesses in Fuzz/ and the corpus replay
// test (Tests/FuzzReplayTests) over the HTTP edge's parsers: request target
// routing and query strings, Basic and Bearer Authorization headers, JWT
// header and claims, htpasswd files.
//
// Thread safety: stateless.
// Invariants:
//   1. Every function returns or throws `FuzzInvariantViolation`, whatever
//      the bytes; input the parser rejects simply returns.
//   2. A violation names the invariant (Fuzz/README.md) that failed.

import Foundation
import OCIModel

@_spi(Fuzzing)
public struct FuzzInvariantViolation: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

@_spi(Fuzzing)
public enum FuzzEntryPoints {
    /// FuzzRouter: the input is a request target. `Router.match` throws only
    /// notFound or NAME_INVALID; a matched name is a valid repository name
    /// with no '%'; the query re-encoded parses back to the same items.
    public static func router(_ bytes: [UInt8]) throws {
        let target = String(decoding: bytes, as: UTF8.self)
        try checkQuery(QueryParameters(Router.split(target).1))
        let match: RouteMatch
        do {
            match = try Router.match(target)
        } catch RouterError.notFound {
            return
        } catch let e as RegistryError {
            return try check(e.code == .nameInvalid, "router threw \(e.code)")
        } catch let e as OCIParseError {
            return try check(e.code == .nameInvalid, "router threw \(e.code)")
        }
        if let name = match.route.repository {
            try check(RepositoryName.isValid(name) && !name.utf8.contains(UInt8(ascii: "%")), "routed invalid name \(name)")
            try check(target.hasPrefix("/v2/" + name + "/"), "name \(name) is not the target's prefix")
        }
        _ = match.route.label
    }

    static func checkQuery(_ q: QueryParameters) throws {
        let encoded = q.items.map { QueryParameters.encode($0.name) + "=" + QueryParameters.encode($0.value) }.joined(separator: "&")
        try check(QueryParameters(encoded[...]) == q, "query does not round-trip through encode: \(encoded)")
        for item in q.items { try check(q.all(item.name).contains(item.value) && q.contains(item.name), "lookup of \(item.name)") }
    }

    /// FuzzQuery: the input is a raw query string (after '?').
    public static func query(_ bytes: [UInt8]) throws {
        try checkQuery(QueryParameters(String(decoding: bytes, as: UTF8.self)[...]))
    }

    /// FuzzAuthHeader: the input is an Authorization header value. Accepted
    /// Basic credentials have a non-empty user without ':' and a password
    /// without NUL, at most 1024 bytes, and re-encode to the same pair; an
    /// accepted Bearer token is non-empty, trimmed, at most 16 KiB, and
    /// re-wraps to itself.
    public static func authorizationHeader(_ bytes: [UInt8]) throws {
        let header = String(decoding: bytes, as: UTF8.self)
        if let (user, password) = HtpasswdAuthorizer.basicCredentials(header) {
            try check(!user.isEmpty && !user.contains(":"), "user \(user)")
            try check(!password.utf8.contains(0) && password.utf8.count <= 1024, "password")
            let again = HtpasswdAuthorizer.basicCredentials("Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
            try check(again.map { $0 == (user, password) } ?? false, "Basic credentials do not round-trip")
        }
        if let token = TokenAuthorizer.bearerToken(header) {
            try check(!token.isEmpty && token.utf8.count <= 16_384, "token length \(token.utf8.count)")
            try check(token.trimmingCharacters(in: .whitespaces) == token, "untrimmed token")
            try check(TokenAuthorizer.bearerToken("Bearer " + token) == token, "Bearer token does not round-trip")
        }
    }

    /// FuzzJWT: the input is a compact JWS. The JOSE header parses or is
    /// `.malformed`; claims that decode (as jwt-kit would after the
    /// signature check) encode and decode back equal, and grant every scope
    /// their `access` lists.
    public static func jwt(_ bytes: [UInt8]) throws {
        let token = String(decoding: bytes, as: UTF8.self)
        do {
            _ = try TokenAuthorizer.header(of: token)
        } catch let f as TokenAuthorizer.Failure {
            try check(f == .malformed, "header(of:) threw \(f)")
        }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = TokenAuthorizer.base64URLDecode(parts[1]),
              FuzzEntryPoints.shallowJSON(payload),
              let claims = try? JSONDecoder().decode(RegistryTokenClaims.self, from: payload)
        else { return }
        let again = try? JSONDecoder().decode(RegistryTokenClaims.self, from: JSONEncoder().encode(claims))
        try check(again.map { $0.iss == claims.iss && $0.sub == claims.sub && $0.aud == claims.aud && $0.exp == claims.exp
                    && $0.nbf == claims.nbf && $0.access == claims.access } ?? false, "claims do not round-trip")
        for a in claims.access {
            try check(claims.grants(AccessScope(type: a.type, name: a.name, actions: a.actions)), "access \(a) not granted")
        }
    }

    /// FuzzHtpasswd: the input is an htpasswd file. Every entry is a
    /// normalised bcrypt hash ("$2b$", 60 bytes) under a user name without
    /// ':'; every line (split on the byte \n, a trailing \r dropped) that is
    /// `user:<bcrypt>` and whose user no later line names is an entry; the
    /// entries written back out parse to the same entries, nothing rejected.
    public static func htpasswd(_ bytes: [UInt8]) throws {
        let file = HtpasswdFile(parsing: String(decoding: bytes, as: UTF8.self))
        for (user, hash) in file.entries {
            try check(!user.isEmpty && !user.utf8.contains(UInt8(ascii: ":")), "user \(user)")
            try check(hash.hasPrefix("$2b$") && hash.utf8.count == 60, "hash \(hash)")
        }
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { $0.last == UInt8(ascii: "\r") ? $0.dropLast() : $0 }
        var laterUsers = Set<[UInt8]>()
        for line in lines.reversed() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let user = Array(line[..<colon]), hash = String(decoding: line[(colon + 1)...], as: UTF8.self)
            defer { laterUsers.insert(user) }
            guard !laterUsers.contains(user), !user.isEmpty, user.first != UInt8(ascii: "#"),
                  user.first != UInt8(ascii: " "), user.first != UInt8(ascii: "\t"), String(validating: user, as: UTF8.self) != nil,
                  let normalised = HtpasswdFile.bcrypt(hash) else { continue }
            let name = String(decoding: user, as: UTF8.self)
            try check(file.entries[name] == normalised, "line `\(name):\(hash)` is not an entry")
        }
        for r in file.rejected { try check((1...max(1, lines.count)).contains(r.line), "rejected line \(r.line) of \(lines.count)") }
        let written = file.entries.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: "\n")
        let again = HtpasswdFile(parsing: written)
        try check(again.entries == file.entries && again.rejected.isEmpty, "entries do not round-trip")
    }

    static func shallowJSON(_ data: Data) -> Bool {
        data.count(where: { $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "{") }) <= 64
    }

    static func check(_ condition: Bool, _ what: @autoclosure () -> String) throws {
        if !condition { throw FuzzInvariantViolation(what()) }
    }
}
