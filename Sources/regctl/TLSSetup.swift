// Maps config.yml's `http.tls`, `http.http2` and the `berth.limits`
// connection limits onto RegistryServer's TLS
// settings and checks, at startup, everything that would otherwise fail on
// the first connection: unreadable or malformed certificate, key and client
// CA files, a key that does not match the certificate, cipher suite names
// BoringSSL does not have.

import Foundation
import Logging
import RegistryConfig
import RegistryHTTP

enum TLSSetup {
    static func apply(_ c: RegistryConfiguration, to s: inout RegistryServer.Configuration) throws {
        s.http2Enabled = !c.http.http2.disabled
        s.limits.maxHeaderBytes = c.berth.limits.maxHeaderBytes
        s.limits.maxRequestLineLength = c.berth.limits.maxRequestLine
        s.limits.idleTimeout = c.berth.limits.idleTimeout
        s.limits.requestHeaderTimeout = c.berth.limits.headerTimeout
        s.limits.bodyStallTimeout = c.berth.limits.bodyStallTimeout
        guard let tls = c.http.tls else { return }
        var t = RegistryServer.Configuration.TLS(certificatePath: tls.certificate, keyPath: tls.key)
        t.clientCAPaths = tls.clientCAs
        t.clientAuth = tls.clientAuth
        t.minimumVersion = tls.minimumTLS
        t.cipherSuites = tls.cipherSuites
        t.reloadInterval = c.berth.limits.tlsReloadInterval
        let files = [("http.tls.certificate", tls.certificate), ("http.tls.key", tls.key)]
            + tls.clientCAs.map { ("http.tls.clientcas", $0) }
        for (key, path) in files where !FileManager.default.isReadableFile(atPath: path) {
            throw RegctlError("configuration: \(key): cannot read \(path)")
        }
        do {
            _ = try TLSContextProvider(configuration: t, http2: s.http2Enabled, logger: Logger(label: "berth.tls"))
        } catch let error as TLSSetupError {
            throw RegctlError("configuration: \(error)")
        }
        s.tls = t
    }
}
