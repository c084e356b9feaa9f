// http.tls.ciphersuites: Go names map to OpenSSL names, unsupported ones are
// named at startup, and — with real handshakes — a configured suite
// negotiates while one left out is refused (TLS 1.2: BoringSSL's TLS 1.3
// suites are fixed, as Go's are).

import Foundation
import NIOSSL
import Testing
@testable import RegistryHTTP

@Suite("TLS cipher suites", .serialized)
struct TLSCipherSuiteTests {
    @Test("cipher suite names: Go names map to OpenSSL names; unsupported ones are named in the error")
    func names() throws {
        #expect(try TLSCipherSuites.openSSLCipherList(["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"])
                == "ECDHE-RSA-AES128-GCM-SHA256")
        #expect(try TLSCipherSuites.openSSLCipherList(["TLS_AES_256_GCM_SHA384"]) == nil)
        do {
            _ = try TLSCipherSuites.openSSLCipherList(["TLS_RSA_WITH_RC4_128_SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"])
            Issue.record("expected an error")
        } catch let error as TLSSetupError {
            #expect("\(error)".contains("TLS_RSA_WITH_RC4_128_SHA"))
            #expect(!"\(error)".contains("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"))
        }
    }

    /// A TLS 1.2 client offering exactly one (OpenSSL-named) suite.
    static func client(_ f: TLSFixtures, offering suite: String) throws -> TLSConfiguration {
        var c = try TLSTestConnection.configuration(f, maximumVersion: .tlsv12)
        c.cipherSuites = suite
        return c
    }

    @Test("a configured suite negotiates; a suite the server would take by default but was left out is refused")
    func handshakes() async throws {
        let f = try TLSFixtures.make()
        defer { f.remove() }
        let allowed = "ECDHE-ECDSA-AES128-GCM-SHA256", left = "ECDHE-ECDSA-AES256-GCM-SHA384"

        // Control: without ciphersuites the server accepts `left`.
        try await TestRegistry.with({ $0.tls = f.serverTLS() }) { registry in
            let r = try await TLSTestConnection.with(port: registry.port, try Self.client(f, offering: left)) {
                try await $0.send(.GET, "/v2/")
            }
            #expect(r.status == .ok)
        }

        var tls = f.serverTLS()
        tls.cipherSuites = ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]
        try await TestRegistry.with({ $0.tls = tls }) { registry in
            let r = try await TLSTestConnection.with(port: registry.port, try Self.client(f, offering: allowed)) { c in
                #expect(try await c.channel.nioSSL_tlsVersion().get() == .tlsv12)
                return try await c.send(.GET, "/v2/")
            }
            #expect(r.status == .ok)
            await TLSRefusal.expect("SSLV3_ALERT_HANDSHAKE_FAILURE") {
                _ = try await TLSTestConnection.with(port: registry.port, try Self.client(f, offering: left)) {
                    try await $0.send(.GET, "/v2/")
                }
            }
        }
    }

    @Test("a TLS 1.3-only ciphersuites list leaves TLS 1.2 at its defaults")
    func tls13NamesOnly() async throws {
        let f = try TLSFixtures.make()
        defer { f.remove() }
        var tls = f.serverTLS()
        tls.cipherSuites = ["TLS_AES_128_GCM_SHA256"]
        try await TestRegistry.with({ $0.tls = tls }) { registry in
            let r = try await TLSTestConnection.with(port: registry.port,
                                                     try Self.client(f, offering: "ECDHE-ECDSA-AES256-GCM-SHA384")) {
                try await $0.send(.GET, "/v2/")
            }
            #expect(r.status == .ok)
        }
    }
}
