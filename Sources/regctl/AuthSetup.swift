// Builds the request authorizer from `auth:` for `regctl serve`. A missing or
// unreadable htpasswd, rootcertbundle or jwks file stops startup (exit 1):
// a registry with auth configured is never served open.

import Logging
import NIOPosix
import RegistryConfig
import RegistryHTTP

enum AuthSetup {
    static func authorizer(from c: RegistryConfiguration, logger: Logger) async throws -> any RequestAuthorizer {
        do {
            let authorizer = try await AuthorizerFactory.make(c.auth, threadPool: .singleton, logger: logger)
            switch c.auth {
            case .htpasswd(let h)?:
                logger.info("auth: htpasswd", metadata: ["path": "\(h.path)", "realm": "\(h.realm)",
                                                         "access_rules": "\(h.access?.rules.count ?? 0)"])
            case .token(let t)?:
                logger.info("auth: token", metadata: ["realm": "\(t.realm)", "service": "\(t.service)", "issuer": "\(t.issuer)"])
            case nil:
                break
            }
            return authorizer
        } catch let error as AuthorizerFactory.SetupError {
            throw RegctlError("configuration: \(error.description)")
        }
    }
}
