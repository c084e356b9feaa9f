// auth.token over a real server: tokens signed by a test issuer key (openssl
// certificate for rootcertbundle, the same key as a JWKS), every rejection
// path answers 401 with the Bearer challenge.

import Foundation
import JWTKit
import Logging
import NIOHTTP1
import Testing
@testable import RegistryConfig
@testable import RegistryHTTP

@Suite("Auth: token")
struct AuthTokenTests {
    static let realm = "https://auth.example.com/token"
    static let service = "registry.example.com"
    static let issuer = "test-issuer"

    struct Issuer {
        var dir: String
        var certPath: String
        var key: ES256PrivateKey
        var otherKey: ES256PrivateKey
        var jwksPath: String
        /// PEM of the root certificate and of an unrelated self-signed one
        /// (jwt-kit takes PEM for x5c when signing and writes base64 DER).
        var certDER: String
        var otherCertDER: String
        var otherCertKey: ES256PrivateKey

        init() throws {
            dir = try AuthTools.tempDir()
            certPath = dir + "/root.crt"
            let keyPath = dir + "/root.key"
            try AuthTools.run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                          "-keyout", keyPath, "-out", certPath, "-subj", "/CN=berth-test-issuer", "-days", "2"],
                              package: "openssl")
            key = try ES256PrivateKey(pem: try String(contentsOfFile: keyPath, encoding: .utf8))
            otherKey = ES256PrivateKey()
            let params = try #require(key.publicKey.parameters)
            jwksPath = dir + "/jwks.json"
            certDER = try String(contentsOfFile: certPath, encoding: .utf8)
            try AuthTools.run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                          "-keyout", dir + "/other.key", "-out", dir + "/other.crt", "-subj", "/CN=evil", "-days", "2"],
                              package: "openssl")
            otherCertDER = try String(contentsOfFile: dir + "/other.crt", encoding: .utf8)
            otherCertKey = try ES256PrivateKey(pem: try String(contentsOfFile: dir + "/other.key", encoding: .utf8))
            let jwks = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"test-kid\",\"use\":\"sig\",\"x\":\"\(params.x)\",\"y\":\"\(params.y)\"}]}"
            try jwks.write(toFile: jwksPath, atomically: true, encoding: .utf8)
        }

        func token(access: [RegistryTokenClaims.ResourceActions], aud: [String] = [service], iss: String = issuer,
                   exp: Double = Date().timeIntervalSince1970 + 300, nbf: Double? = Date().timeIntervalSince1970 - 10,
                   signer: ES256PrivateKey? = nil, kid: String? = nil, x5c: [String]? = nil) async throws -> String {
            let keys = await JWTKeyCollection().add(ecdsa: signer ?? key)
            let claims = RegistryTokenClaims(iss: iss, sub: "tester", aud: aud, exp: exp, nbf: nbf,
                                             iat: Date().timeIntervalSince1970, jti: UUID().uuidString, access: access)
            var header = JWTHeader()
            header.typ = "JWT"
            if let kid { header.kid = kid }
            if let x5c { header.x5c = x5c }
            return try await keys.sign(claims, header: header)
        }
    }

    static func config(_ issuer: Issuer, jwks: Bool = false) -> RegistryConfiguration.Auth.Token {
        var token = RegistryConfiguration.Auth.Token(realm: realm, service: service, issuer: Self.issuer)
        if jwks { token.jwks = issuer.jwksPath } else { token.rootCertBundle = issuer.certPath }
        return token
    }

    static func bearer(_ token: String) -> (String, String) { ("Authorization", "Bearer \(token)") }

    static func pull(_ repo: String, _ actions: [String] = ["pull"]) -> RegistryTokenClaims.ResourceActions {
        .init(type: "repository", name: repo, actions: actions)
    }

    @Test func challengeAndScopes() async throws {
        let issuer = try Issuer()
        defer { try? FileManager.default.removeItem(atPath: issuer.dir) }
        let auth = try await TokenAuthorizer.make(Self.config(issuer), logger: Logger(label: "test"))
        try await TestRegistry.with(authorizer: auth) { registry in
            let base = try await registry.send(.GET, "/v2/")
            #expect(base.status == .unauthorized)
            #expect(base.errorCode == "UNAUTHORIZED")
            #expect(base["WWW-Authenticate"] == "Bearer realm=\"\(Self.realm)\",service=\"\(Self.service)\"")

            let pull = try await registry.send(.GET, "/v2/library/alpine/manifests/latest")
            #expect(pull["WWW-Authenticate"] == "Bearer realm=\"\(Self.realm)\",service=\"\(Self.service)\",scope=\"repository:library/alpine:pull\"")
            let push = try await registry.send(.POST, "/v2/library/alpine/blobs/uploads/")
            #expect(push["WWW-Authenticate"] == "Bearer realm=\"\(Self.realm)\",service=\"\(Self.service)\",scope=\"repository:library/alpine:pull,push\"")
            let delete = try await registry.send(.DELETE, "/v2/library/alpine/manifests/latest")
            #expect(delete["WWW-Authenticate"]?.hasSuffix(",scope=\"repository:library/alpine:delete\"") == true)
            let catalog = try await registry.send(.GET, "/v2/_catalog")
            #expect(catalog["WWW-Authenticate"]?.hasSuffix(",scope=\"registry:catalog:*\"") == true)
            let mount = try await registry.send(.POST, "/v2/b/blobs/uploads/?mount=sha256:\(String(repeating: "a", count: 64))&from=a")
            #expect(mount["WWW-Authenticate"]?.hasSuffix(",scope=\"repository:b:pull,push repository:a:pull\"") == true)

            // A valid token with the right scope.
            let pullToken = try await issuer.token(access: [Self.pull("library/alpine")])
            let tags = try await registry.send(.GET, "/v2/library/alpine/tags/list", headers: [Self.bearer(pullToken)])
            #expect(tags.status == .notFound, "authorized; the repository does not exist")
            #expect(try await registry.send(.GET, "/v2/", headers: [Self.bearer(pullToken)]).status == .ok)

            // Valid token, missing scope: 401 insufficient_scope.
            let denied = try await registry.send(.POST, "/v2/library/alpine/blobs/uploads/", headers: [Self.bearer(pullToken)])
            #expect(denied.status == .unauthorized)
            #expect(denied["WWW-Authenticate"] == "Bearer realm=\"\(Self.realm)\",service=\"\(Self.service)\",scope=\"repository:library/alpine:pull,push\",error=\"insufficient_scope\"")
            let otherRepo = try await registry.send(.GET, "/v2/library/busybox/tags/list", headers: [Self.bearer(pullToken)])
            #expect(otherRepo["WWW-Authenticate"]?.contains("error=\"insufficient_scope\"") == true)

            // push scope works end to end.
            let pushToken = try await issuer.token(access: [Self.pull("library/alpine", ["pull", "push"])])
            let upload = try await registry.send(.POST, "/v2/library/alpine/blobs/uploads/", headers: [Self.bearer(pushToken)])
            #expect(upload.status == .accepted)

            // Catalog needs registry:catalog:*.
            #expect(try await registry.send(.GET, "/v2/_catalog", headers: [Self.bearer(pushToken)]).status == .unauthorized)
            let catalogToken = try await issuer.token(access: [.init(type: "registry", name: "catalog", actions: ["*"])])
            #expect(try await registry.send(.GET, "/v2/_catalog", headers: [Self.bearer(catalogToken)]).status == .ok)
        }
    }

    @Test func invalidTokensAreRejected() async throws {
        let issuer = try Issuer()
        defer { try? FileManager.default.removeItem(atPath: issuer.dir) }
        let auth = try await TokenAuthorizer.make(Self.config(issuer), logger: Logger(label: "test"))
        let access = [Self.pull("repo")]
        let now = Date().timeIntervalSince1970
        let b64 = { (s: String) in Data(s.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_") }
        let payload = "{\"iss\":\"\(Self.issuer)\",\"aud\":\"\(Self.service)\",\"exp\":\(Int(now) + 300),\"access\":[{\"type\":\"repository\",\"name\":\"repo\",\"actions\":[\"pull\"]}]}"
        let valid = try await issuer.token(access: access)
        let validParts = valid.split(separator: ".")
        let cases: [(String, String)] = [
            ("wrong audience", try await issuer.token(access: access, aud: ["other-service"])),
            ("wrong issuer", try await issuer.token(access: access, iss: "evil")),
            ("expired", try await issuer.token(access: access, exp: now - 120, nbf: now - 600)),
            ("not yet valid", try await issuer.token(access: access, exp: now + 900, nbf: now + 600)),
            ("other key", try await issuer.token(access: access, signer: issuer.otherKey)),
            ("alg none", b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + b64(payload) + "."),
            ("alg none with a signature", b64("{\"alg\":\"none\"}") + "." + b64(payload) + "." + validParts[2]),
            ("HS256 header", b64("{\"alg\":\"HS256\"}") + "." + b64(payload) + "." + validParts[2]),
            ("payload swapped", validParts[0] + "." + b64(payload.replacingOccurrences(of: "repo", with: "rep0")) + "." + validParts[2]),
            ("garbage", "not-a-token"),
        ]
        try await TestRegistry.with(authorizer: auth) { registry in
            #expect(try await registry.send(.GET, "/v2/repo/tags/list", headers: [Self.bearer(valid)]).status == .notFound)
            // Within the 60 s leeway.
            // Timed from the request, not the test's start (a loaded machine can
            // spend longer than the leeway getting here).
            let current = Date().timeIntervalSince1970
            let justExpired = try await issuer.token(access: access, exp: current - 20, nbf: current - 600)
            #expect(try await registry.send(.GET, "/v2/repo/tags/list", headers: [Self.bearer(justExpired)]).status == .notFound)
            for (name, token) in cases {
                let r = try await registry.send(.GET, "/v2/repo/tags/list", headers: [Self.bearer(token)])
                #expect(r.status == .unauthorized, "\(name)")
                #expect(r.errorCode == "UNAUTHORIZED", "\(name)")
                #expect(r["WWW-Authenticate"]?.hasSuffix("scope=\"repository:repo:pull\",error=\"invalid_token\"") == true, "\(name)")
            }
            let basic = try await registry.send(.GET, "/v2/repo/tags/list", headers: [AuthTools.basic("a", "b")])
            #expect(basic.status == .unauthorized)
        }
    }

    @Test func jwksAndAlgorithmAllowList() async throws {
        let issuer = try Issuer()
        defer { try? FileManager.default.removeItem(atPath: issuer.dir) }
        let auth = try await TokenAuthorizer.make(Self.config(issuer, jwks: true), logger: Logger(label: "test"))
        try await TestRegistry.with(authorizer: auth) { registry in
            let token = try await issuer.token(access: [Self.pull("repo")], kid: "test-kid")
            #expect(try await registry.send(.GET, "/v2/repo/tags/list", headers: [Self.bearer(token)]).status == .notFound)
            let noKid = try await issuer.token(access: [Self.pull("repo")])
            #expect(try await registry.send(.GET, "/v2/repo/tags/list", headers: [Self.bearer(noKid)]).status == .notFound)
            let other = try await issuer.token(access: [Self.pull("repo")], signer: issuer.otherKey, kid: "test-kid")
            #expect(try await registry.send(.GET, "/v2/repo/tags/list", headers: [Self.bearer(other)]).status == .unauthorized)
        }
        // ES256 not allowed: a correctly signed ES256 token is refused.
        var rsOnly = Self.config(issuer)
        rsOnly.signingAlgorithms = ["RS256"]
        let strict = try await TokenAuthorizer.make(rsOnly, logger: Logger(label: "test"))
        let token = try await issuer.token(access: [Self.pull("repo")])
        await #expect(throws: TokenAuthorizer.Failure.algorithm) { _ = try await strict.verify(token) }
        var bogus = Self.config(issuer)
        bogus.signingAlgorithms = ["none"]
        await #expect(throws: TokenAuthorizer.LoadError.self) { _ = try await TokenAuthorizer.make(bogus, logger: Logger(label: "test")) }
    }

    @Test func x5cChainToTheRootBundle() async throws {
        let issuer = try Issuer()
        defer { try? FileManager.default.removeItem(atPath: issuer.dir) }
        let auth = try await TokenAuthorizer.make(Self.config(issuer), logger: Logger(label: "test"))
        let good = try await issuer.token(access: [Self.pull("repo")], x5c: [issuer.certDER])
        _ = try await auth.verify(good)
        // A chain that does not end at the bundle, signed by its own key.
        let untrusted = try await issuer.token(access: [Self.pull("repo")], signer: issuer.otherCertKey, x5c: [issuer.otherCertDER])
        await #expect(throws: TokenAuthorizer.Failure.signature) { _ = try await auth.verify(untrusted) }
        // The trusted certificate in x5c, but signed by another key.
        let forged = try await issuer.token(access: [Self.pull("repo")], signer: issuer.otherKey, x5c: [issuer.certDER])
        await #expect(throws: TokenAuthorizer.Failure.signature) { _ = try await auth.verify(forged) }
        // JWKS-only configuration cannot verify chains.
        let jwksOnly = try await TokenAuthorizer.make(Self.config(issuer, jwks: true), logger: Logger(label: "test"))
        await #expect(throws: TokenAuthorizer.Failure.signature) { _ = try await jwksOnly.verify(good) }
    }

    @Test func missingKeyFilesAreStartupErrors() async throws {
        var token = RegistryConfiguration.Auth.Token(realm: Self.realm, service: Self.service, issuer: Self.issuer)
        token.rootCertBundle = "/nonexistent/root.crt"
        await #expect(throws: AuthorizerFactory.SetupError.self) {
            _ = try await AuthorizerFactory.make(.token(token), logger: Logger(label: "test"))
        }
        token.rootCertBundle = nil
        token.jwks = "/nonexistent/jwks.json"
        await #expect(throws: AuthorizerFactory.SetupError.self) {
            _ = try await AuthorizerFactory.make(.token(token), logger: Logger(label: "test"))
        }
        let dir = try AuthTools.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "not a certificate".write(toFile: dir + "/bad.crt", atomically: true, encoding: .utf8)
        token.jwks = nil
        token.rootCertBundle = dir + "/bad.crt"
        await #expect(throws: AuthorizerFactory.SetupError.self) {
            _ = try await AuthorizerFactory.make(.token(token), logger: Logger(label: "test"))
        }
    }
}
