// Builds the RequestAuthorizer for `auth:`. Any file the scheme needs that
// cannot be read is an error here: a registry with auth configured is never
// served open.

import Logging
import NIOPosix
import RegistryConfig

public enum AuthorizerFactory {
    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func make(_ auth: RegistryConfiguration.Auth?, threadPool: NIOThreadPool = .singleton,
                            logger: Logger) async throws -> any RequestAuthorizer {
        switch auth {
        case nil:
            return AllowAllAuthorizer()
        case .htpasswd(let h)?:
            do {
                return try HtpasswdAuthorizer(realm: h.realm, path: h.path, access: h.access,
                                              threadPool: threadPool, logger: logger)
            } catch let error as HtpasswdAuthorizer.LoadError {
                throw SetupError(description: "auth.htpasswd: \(error.description)")
            }
        case .token(let t)?:
            do {
                return try await TokenAuthorizer.make(t, logger: logger)
            } catch let error as TokenAuthorizer.LoadError {
                throw SetupError(description: "auth.token: \(error.description)")
            }
        }
    }
}
