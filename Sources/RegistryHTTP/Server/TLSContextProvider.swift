// Builds the server's NIOSSLContext from RegistryServer.Configuration.TLS and
// rebuilds it when the certificate, key or client-CA files change. New
// connections take `current`; connections already open keep the context they
// were created with. A file that fails to load is logged and the previous
// context stays in use.
//
// Client authentication (distribution / Go `tls.ClientAuthType`) maps onto
// NIOSSL as follows:
//   request-client-cert            optional verification + a callback that accepts any certificate
//   require-any-client-cert        certificate required (no hostname check) + accept-any callback
//   verify-client-cert-if-given    optionalVerification against the client CAs
//   require-and-verify-client-cert noHostnameVerification against the client CAs
// Approximation: for the two "any certificate" modes the chain is not
// verified at all (as in Go), but BoringSSL still checks the handshake
// signature with the presented key.
//
// Thread safety: Sendable; the context and file stamps live in one Mutex.

import Foundation
import Logging
import NIOCore
import NIOSSL
import Synchronization

public final class TLSContextProvider: Sendable {
    public let configuration: RegistryServer.Configuration.TLS
    let alpn: [String]
    private let logger: Logger
    private let state: Mutex<(context: NIOSSLContext, stamps: [FileStamp])>

    struct FileStamp: Equatable {
        var path: String
        var modified: Date?
        var size: Int?
    }

    /// Loads every file now; throws a message naming the file that failed.
    public init(configuration: RegistryServer.Configuration.TLS, http2: Bool, logger: Logger) throws {
        self.configuration = configuration
        self.alpn = http2 ? ["h2", "http/1.1"] : ["http/1.1"]
        self.logger = logger
        let stamps = Self.stamps(configuration)
        let context = try Self.makeContext(configuration, alpn: alpn)
        state = Mutex((context, stamps))
    }

    /// The context for the next connection.
    var current: NIOSSLContext { state.withLock { $0.context } }

    /// Checks the files; rebuilds the context when any changed. Returns true
    /// when a new context was installed.
    @discardableResult
    public func reloadIfChanged() -> Bool {
        let now = Self.stamps(configuration)
        let changed = state.withLock { $0.stamps != now }
        guard changed else { return false }
        do {
            let context = try Self.makeContext(configuration, alpn: alpn)
            state.withLock { $0 = (context, now) }
            logger.notice("TLS certificate reloaded", metadata: ["certificate": "\(configuration.certificatePath)"])
            return true
        } catch {
            // Remember the stamps so a broken file is reported once, not every poll.
            state.withLock { $0.stamps = now }
            logger.error("TLS reload failed; keeping the previous certificate",
                         metadata: ["error": "\(error)", "certificate": "\(configuration.certificatePath)"])
            return false
        }
    }

    /// A server handler for one new connection.
    func makeHandler() throws -> NIOSSLServerHandler {
        let context = current
        switch (configuration.clientCAPaths.isEmpty, configuration.clientAuth) {
        case (false, .requestClientCert), (false, .requireAnyClientCert):
            return try NIOSSLServerHandler(context: context, customVerificationCallback: { _, promise in
                promise.succeed(.certificateVerified)
            })
        default:
            return try NIOSSLServerHandler(context: context)
        }
    }

    private static func stamps(_ c: RegistryServer.Configuration.TLS) -> [FileStamp] {
        ([c.certificatePath, c.keyPath] + c.clientCAPaths).map { path in
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            return FileStamp(path: path, modified: attributes?[.modificationDate] as? Date,
                             size: (attributes?[.size] as? NSNumber)?.intValue)
        }
    }

    static func makeContext(_ c: RegistryServer.Configuration.TLS, alpn: [String]) throws -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(c.certificatePath)
        } catch {
            throw TLSSetupError("http.tls.certificate \(c.certificatePath): cannot load PEM certificate chain (\(error))")
        }
        guard !chain.isEmpty else {
            throw TLSSetupError("http.tls.certificate \(c.certificatePath): no certificate in the file")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: c.keyPath, format: .pem)
        } catch {
            throw TLSSetupError("http.tls.key \(c.keyPath): cannot load PEM private key (\(error))")
        }
        var config = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                              privateKey: .privateKey(key))
        config.minimumTLSVersion = switch c.minimumVersion {
        case .tls10: .tlsv1
        case .tls11: .tlsv11
        case .tls12: .tlsv12
        case .tls13: .tlsv13
        }
        config.applicationProtocols = alpn
        if let list = try TLSCipherSuites.openSSLCipherList(c.cipherSuites) {
            config.cipherSuites = list
        }
        if !c.clientCAPaths.isEmpty {
            var roots: [NIOSSLCertificate] = []
            for path in c.clientCAPaths {
                do {
                    roots += try NIOSSLCertificate.fromPEMFile(path)
                } catch {
                    throw TLSSetupError("http.tls.clientcas \(path): cannot load PEM certificates (\(error))")
                }
            }
            config.trustRoots = .certificates(roots)
            config.sendCANameList = true
            config.certificateVerification = switch c.clientAuth {
            case .requestClientCert, .verifyClientCertIfGiven: .optionalVerification
            case .requireAnyClientCert, .requireAndVerifyClientCert: .noHostnameVerification
            }
        } else {
            config.certificateVerification = .none
        }
        do {
            return try NIOSSLContext(configuration: config)
        } catch {
            throw TLSSetupError("http.tls: cannot build the TLS context (\(error)); check that the key matches the certificate")
        }
    }
}

/// A TLS configuration problem, worded for an operator (names the key and file).
public struct TLSSetupError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
