// The operator's setup from the seed notes, verbatim: TLS certificate and key
// plus htpasswd (bcrypt) auth given as REGISTRY_* environment variables.
// skopeo pushes with --dest-creds over TLS, trusting the test CA through
// --dest-cert-dir (as docker's certs.d does); a wrong password is refused;
// Go's client negotiates HTTP/2 through ALPN and the access log shows it.

import Foundation
import Testing

@Suite("Interop over TLS with htpasswd", .serialized, .timeLimit(.minutes(5)))
struct SecureInteropTests {
    /// A CA, a server certificate for 127.0.0.1 signed by it, and an htpasswd
    /// file made by Debian's htpasswd (bcrypt, -B).
    struct Secrets {
        let dir: TemporaryDirectory
        var certDir: URL { dir.path("certs.d") }
        var caCert: String { certDir.appendingPathComponent("ca.crt").path }
        var serverCert: String { dir.path("domain.crt").path }
        var serverKey: String { dir.path("domain.key").path }
        var htpasswd: String { dir.path("htpasswd").path }

        init() throws {
            dir = try TemporaryDirectory("secure")
            try FileManager.default.createDirectory(at: dir.path("certs.d"), withIntermediateDirectories: true)
            let openssl = try Command.require("openssl", package: "openssl")
            let d = dir.url.path
            try Command.check(openssl, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                                        "-subj", "/CN=Berth Test CA", "-keyout", "\(d)/ca.key", "-out", caCert])
            try Command.check(openssl, ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                                        "-keyout", serverKey, "-out", "\(d)/domain.csr"])
            try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: "\(d)/san.ext", atomically: true, encoding: .utf8)
            try Command.check(openssl, ["x509", "-req", "-in", "\(d)/domain.csr", "-CA", caCert, "-CAkey", "\(d)/ca.key",
                                        "-CAcreateserial", "-days", "2", "-extfile", "\(d)/san.ext", "-out", serverCert])
            let htpasswdTool = try Command.require("htpasswd", package: "apache2-utils")
            try Command.check(htpasswdTool, ["-B", "-b", "-c", htpasswd, "alice", "s3cret-pass"])
        }

        /// The seed's docker-compose environment.
        var environment: [String: String] {
            [
                "REGISTRY_HTTP_TLS_CERTIFICATE": serverCert,
                "REGISTRY_HTTP_TLS_KEY": serverKey,
                "REGISTRY_AUTH": "htpasswd",
                "REGISTRY_AUTH_HTPASSWD_PATH": htpasswd,
                "REGISTRY_AUTH_HTPASSWD_REALM": "Registry Realm",
            ]
        }
    }

    func skopeo(_ args: [String]) throws -> CommandResult {
        try Command.run(try Skopeo.executable(), ["--insecure-policy"] + args)
    }

    @Test("skopeo pushes and pulls with --creds over TLS (HTTP/2); a wrong password is refused")
    func credentialsOverTLS() throws {
        let secrets = try Secrets()
        let work = try TemporaryDirectory("secure-image")
        let layout = try OCILayout.create(at: work.path("src"))
        let image = try layout.addImage(seed: "secure", layerCount: 2, largeLayerBytes: 1 << 20)
        try layout.tag(image.manifest, as: "v1")

        let server = try RegistryProcess.start(environment: secrets.environment, tlsCA: secrets.caCert)
        defer { server.stop() }
        let remote = "docker://\(server.host)/secure/app:v1"

        // No credentials: the challenge docker login needs.
        let anonymous = try HTTPProbe.request(url: "\(server.baseURL)/v2/", curlOptions: ["--cacert", secrets.caCert])
        #expect(anonymous.status == 401)
        #expect(anonymous.header("WWW-Authenticate") == #"Basic realm="Registry Realm""#)

        let wrong = try skopeo(["copy", "--quiet", "--dest-cert-dir", secrets.certDir.path,
                                "--dest-creds", "alice:not-the-password", "oci:\(layout.root.path):v1", remote])
        #expect(!wrong.succeeded, "a wrong password must be refused")
        #expect(wrong.stderr.lowercased().contains("unauthorized") || wrong.stderr.contains("401"), "\(wrong.stderr)")

        let push = try skopeo(["copy", "--quiet", "--dest-cert-dir", secrets.certDir.path, "--preserve-digests",
                               "--dest-creds", "alice:s3cret-pass", "oci:\(layout.root.path):v1", remote])
        #expect(push.succeeded, "\(push.stderr)\n\(server.log.suffix(3000))")

        let back = OCILayout(at: work.path("back"))
        let pull = try skopeo(["copy", "--quiet", "--src-cert-dir", secrets.certDir.path,
                               "--src-creds", "alice:s3cret-pass", remote, "oci:\(back.root.path):v1"])
        #expect(pull.succeeded, "\(pull.stderr)")
        #expect(try back.entry(forRef: "v1").digest == image.manifest.digest)
        #expect(try back.blob(image.manifest.digest) == layout.blob(image.manifest.digest))

        // Without trusting the CA, TLS verification fails before any login.
        let untrusted = try skopeo(["inspect", "--raw", "--creds", "alice:s3cret-pass", remote])
        #expect(!untrusted.succeeded)

        // Go's client took HTTP/2 (ALPN h2) for the pushes and pulls.
        let log = server.log
        #expect(log.contains("proto=HTTP/2.0"), "\(log.suffix(2000))")
        #expect(!log.contains("s3cret-pass"), "credentials must never reach the log")
        #expect(server.serverErrorLines.isEmpty, "\(server.serverErrorLines)")
    }
}
