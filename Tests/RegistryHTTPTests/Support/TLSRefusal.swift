// Asserts that a TLS connection attempt fails the way it must: the specific
// NIOSSL error, naming the BoringSSL reason (certificate verification, a
// protocol-version or handshake-failure alert), not "some error".

import NIOSSL
import Testing

enum TLSRefusal {
    /// Where the refusal surfaces on the client.
    enum Stage {
        /// The client's handshake fails: `NIOSSLError.handshakeFailed`.
        case handshake
        /// TLS 1.3: the client finishes its handshake first and the server's
        /// alert arrives on the first read: `BoringSSLError.sslError`.
        case afterHandshake
    }

    static func expect(_ reason: String, at stage: Stage = .handshake, _ body: () async throws -> Void,
                       sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            try await body()
            Issue.record("expected a TLS refusal (\(reason)); the request went through", sourceLocation: sourceLocation)
        } catch let error as NIOSSLError {
            guard case .handshakeFailed(let ssl) = error, stage == .handshake else {
                Issue.record("expected \(stage) failure \(reason), got NIOSSLError \(error)", sourceLocation: sourceLocation)
                return
            }
            #expect("\(ssl)".contains(reason), "handshake failed for another reason: \(ssl)", sourceLocation: sourceLocation)
        } catch let error as BoringSSLError {
            guard case .sslError = error, stage == .afterHandshake else {
                Issue.record("expected \(stage) failure \(reason), got BoringSSLError \(error)", sourceLocation: sourceLocation)
                return
            }
            #expect("\(error)".contains(reason), "refused for another reason: \(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected a TLS refusal (\(reason)), got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        }
    }
}
