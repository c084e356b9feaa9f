// distribution takes Go's cipher suite names (IANA names); BoringSSL takes
// OpenSSL names. TLS 1.3 suites are fixed in BoringSSL, as they are in Go,
// so their names are accepted and have no effect. Names BoringSSL dropped
// (RC4, 3DES, CBC-SHA256) are refused at startup with their names.

enum TLSCipherSuites {
    static let tls13: Set<String> = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]

    static let openSSLNames: [String: String] = [
        "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
        "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
        "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
        "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    ]

    /// The OpenSSL cipher list for TLS 1.2 and below (nil: only TLS 1.3 names,
    /// keep the defaults); throws naming every unsupported suite.
    static func openSSLCipherList(_ names: [String]) throws -> String? {
        let unsupported = names.filter { openSSLNames[$0] == nil && !tls13.contains($0) }
        guard unsupported.isEmpty else {
            throw TLSSetupError("http.tls.ciphersuites: not supported by Berth's TLS library: \(unsupported.joined(separator: ", "))")
        }
        let list = names.compactMap { openSSLNames[$0] }
        return list.isEmpty ? nil : list.joined(separator: ":")
    }
}
