// HTTPS: certificate chains, minimum version, client certificates (mTLS)
// and certificate reload (cipher suites: TLSCipherSuiteTests), against a real server and store.

import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing
@testable import RegistryHTTP

@Suite("TLS", .serialized)
struct TLSTests {
    @Test("HTTPS /v2/ answers and the chain verifies against the test CA")
    func httpsBase() async throws {
        let f = try TLSFixtures.make()
        defer { f.remove() }
        try await TestRegistry.with({ $0.tls = f.serverTLS() }) { registry in
            let r = try await TLSTestConnection.with(port: registry.port, try TLSTestConnection.configuration(f)) {
                try await $0.send(.GET, "/v2/")
            }
            #expect(r.status == .ok)
            #expect(r["Docker-Distribution-API-Version"] == "registry/2.0")
            // A client without the CA refuses the certificate.
            var untrusting = TLSConfiguration.makeClientConfiguration()
            untrusting.applicationProtocols = ["http/1.1"]
            await TLSRefusal.expect("CERTIFICATE_VERIFY_FAILED") {
                _ = try await TLSTestConnection.with(port: registry.port, untrusting) { try await $0.send(.GET, "/v2/") }
            }
            // Plain HTTP on the TLS port gets no HTTP answer, and the connection closes.
            let plain = try await RawConnection(port: registry.port)
            try await plain.write("GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
            let (bytes, closed) = try await plain.read(timeout: 20)
            plain.close()
            #expect(RawConnection.status(bytes) == nil && !String(decoding: bytes, as: UTF8.self).contains("HTTP/"),
                    "\(bytes.prefix(64))")
            #expect(closed)
        }
    }

    @Test("minimumtls tls1.3 refuses a TLS 1.2-only client and accepts TLS 1.3")
    func minimumVersion() async throws {
        let f = try TLSFixtures.make()
        defer { f.remove() }
        var tls = f.serverTLS()
        tls.minimumVersion = .tls13
        try await TestRegistry.with({ $0.tls = tls }) { registry in
            await TLSRefusal.expect("TLSV1_ALERT_PROTOCOL_VERSION") {
                _ = try await TLSTestConnection.with(port: registry.port,
                                                     try TLSTestConnection.configuration(f, maximumVersion: .tlsv12)) {
                    try await $0.send(.GET, "/v2/")
                }
            }
            let r = try await TLSTestConnection.with(port: registry.port, try TLSTestConnection.configuration(f)) {
                try await $0.send(.GET, "/v2/")
            }
            #expect(r.status == .ok)
        }
    }

    @Test("require-and-verify-client-cert refuses a client without a certificate and accepts one with")
    func mutualTLS() async throws {
        let f = try TLSFixtures.make()
        defer { f.remove() }
        var tls = f.serverTLS()
        tls.clientCAPaths = [f.caCert]
        tls.clientAuth = .requireAndVerifyClientCert
        try await TestRegistry.with({ $0.tls = tls }) { registry in
            await TLSRefusal.expect("TLSV1_ALERT_CERTIFICATE_REQUIRED", at: .afterHandshake) {
                _ = try await TLSTestConnection.with(port: registry.port, try TLSTestConnection.configuration(f)) {
                    try await $0.send(.GET, "/v2/")
                }
            }
            // TLS 1.2: the server's refusal ends the client's handshake.
            await TLSRefusal.expect("SSLV3_ALERT_HANDSHAKE_FAILURE") {
                _ = try await TLSTestConnection.with(port: registry.port, try TLSTestConnection.configuration(f, maximumVersion: .tlsv12)) {
                    try await $0.send(.GET, "/v2/")
                }
            }
            let r = try await TLSTestConnection.with(port: registry.port,
                                                     try TLSTestConnection.configuration(f, clientCertificate: true)) {
                try await $0.send(.GET, "/v2/")
            }
            #expect(r.status == .ok)
        }
    }

    @Test("verify-client-cert-if-given accepts a client without a certificate")
    func optionalClientCertificate() async throws {
        let f = try TLSFixtures.make()
        defer { f.remove() }
        var tls = f.serverTLS()
        tls.clientCAPaths = [f.caCert]
        tls.clientAuth = .verifyClientCertIfGiven
        try await TestRegistry.with({ $0.tls = tls }) { registry in
            for withCert in [false, true] {
                let r = try await TLSTestConnection.with(port: registry.port,
                                                         try TLSTestConnection.configuration(f, clientCertificate: withCert)) {
                    try await $0.send(.GET, "/v2/")
                }
                #expect(r.status == .ok)
            }
        }
    }

    @Test("unreadable or mismatched certificate and key files are startup errors naming the file")
    func startupErrors() throws {
        let f = try TLSFixtures.make()
        defer { f.remove() }
        var missing = f.serverTLS()
        missing.keyPath = f.dir + "/nope.key"
        #expect(throws: TLSSetupError.self) { _ = try TLSContextProvider(configuration: missing, http2: true, logger: .init(label: "t")) }
        var mismatched = f.serverTLS()
        mismatched.keyPath = f.clientKey
        do {
            _ = try TLSContextProvider(configuration: mismatched, http2: true, logger: .init(label: "t"))
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("http.tls"))
        }
    }

    @Test("replaced certificate files: new connections get the new certificate, open ones keep working")
    func certificateReload() async throws {
        let f = try TLSFixtures.make()
        defer { f.remove() }
        try await TestRegistry.with({ $0.tls = f.serverTLS() }) { registry in
            let client = try TLSTestConnection.configuration(f)
            try await TLSTestConnection.with(port: registry.port, client) { old in
                #expect(try await old.send(.GET, "/v2/").status == .ok)
                #expect(try await old.peerCertificate?.serialNumber == [0x03, 0xE9])   // 1001

                try f.issueServer(commonName: "berth-server-2", serial: 1002)
                var serial: [UInt8]? = nil
                let deadline = ContinuousClock.now + .seconds(10)
                while ContinuousClock.now < deadline {
                    serial = try await TLSTestConnection.with(port: registry.port, client) { new in
                        #expect(try await new.send(.GET, "/v2/").status == .ok)
                        return try await new.peerCertificate?.serialNumber
                    }
                    if serial == [0x03, 0xEA] { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(serial == [0x03, 0xEA])   // 1002
                // The connection opened before the reload is untouched.
                #expect(try await old.send(.GET, "/v2/").status == .ok)
                #expect(try await old.peerCertificate?.serialNumber == [0x03, 0xE9])
            }
        }
    }

    @Test("a broken replacement certificate is ignored and the previous one stays in use")
    func brokenReloadKeepsOld() async throws {
        let f = try TLSFixtures.make()
        defer { f.remove() }
        var tls = f.serverTLS()
        tls.reloadInterval = 0   // reload only on demand
        try await TestRegistry.with({ $0.tls = tls }) { registry in
            try "not a certificate".write(toFile: f.serverCert, atomically: true, encoding: .utf8)
            #expect(registry.server.reloadTLS() == false)
            let serial = try await TLSTestConnection.with(port: registry.port, try TLSTestConnection.configuration(f)) { c in
                #expect(try await c.send(.GET, "/v2/").status == .ok)
                return try await c.peerCertificate?.serialNumber
            }
            #expect(serial == [0x03, 0xE9])
            try f.issueServer(commonName: "berth-server-3", serial: 1003)
            #expect(registry.server.reloadTLS() == true)
        }
    }

    @Test("a multi-MiB blob goes up and comes back intact over HTTPS/1.1 (streamed, no sendfile)")
    func blobOverHTTPS1() async throws {
        let f = try TLSFixtures.make()
        defer { f.remove() }
        try await TestRegistry.with({ $0.tls = f.serverTLS() }) { registry in
            var blob = [UInt8](repeating: 0, count: 5 << 20 + 3)
            for i in blob.indices { blob[i] = UInt8(truncatingIfNeeded: (i &* 31) ^ (i >> 9)) }
            let digest = try await registry.pushBlobOverTLS(f, "tls/repo", blob)
            let r = try await TLSTestConnection.with(port: registry.port, try TLSTestConnection.configuration(f)) {
                try await $0.send(.GET, "/v2/tls/repo/blobs/\(digest)")
            }
            #expect(r.status == .ok)
            #expect(r.body.count == blob.count)
            #expect(Fixtures.sha256(r.body) == digest)
        }
    }

    @Test("require-any-client-cert: no certificate is refused, a certificate from an unknown CA is accepted")
    func requireAnyClientCertificate() async throws {
        let f = try TLSFixtures.make()
        defer { f.remove() }
        // A self-signed client certificate the server's client CA never signed.
        try TLSFixtures.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                 "-keyout", f.dir + "/stranger.key", "-out", f.dir + "/stranger.crt", "-days", "1",
                                 "-subj", "/CN=stranger"])
        var tls = f.serverTLS()
        tls.clientCAPaths = [f.caCert]
        tls.clientAuth = .requireAnyClientCert
        try await TestRegistry.with({ $0.tls = tls }) { registry in
            await TLSRefusal.expect("TLSV1_ALERT_CERTIFICATE_REQUIRED", at: .afterHandshake) {
                _ = try await TLSTestConnection.with(port: registry.port, try TLSTestConnection.configuration(f)) {
                    try await $0.send(.GET, "/v2/")
                }
            }
            var stranger = try TLSTestConnection.configuration(f)
            stranger.certificateChain = try NIOSSLCertificate.fromPEMFile(f.dir + "/stranger.crt").map { .certificate($0) }
            stranger.privateKey = .privateKey(try NIOSSLPrivateKey(file: f.dir + "/stranger.key", format: .pem))
            let r = try await TLSTestConnection.with(port: registry.port, stranger) { try await $0.send(.GET, "/v2/") }
            #expect(r.status == .ok)

            // require-and-verify would refuse the same stranger.
        }
        var strict = f.serverTLS()
        strict.clientCAPaths = [f.caCert]
        try await TestRegistry.with({ $0.tls = strict }) { registry in
            var stranger = try TLSTestConnection.configuration(f)
            stranger.certificateChain = try NIOSSLCertificate.fromPEMFile(f.dir + "/stranger.crt").map { .certificate($0) }
            stranger.privateKey = .privateKey(try NIOSSLPrivateKey(file: f.dir + "/stranger.key", format: .pem))
            await TLSRefusal.expect("TLSV1_ALERT_UNKNOWN_CA", at: .afterHandshake) {
                _ = try await TLSTestConnection.with(port: registry.port, stranger) { try await $0.send(.GET, "/v2/") }
            }
        }
    }
}
