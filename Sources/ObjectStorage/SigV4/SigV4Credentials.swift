// Credentials for AWS Signature Version 4.
//
// Thread safety: immutable value.

public struct SigV4Credentials: Sendable, Equatable {
    public var accessKey: String
    public var secretKey: String
    /// Temporary credentials (AWS_SESSION_TOKEN); sent as X-Amz-Security-Token.
    public var sessionToken: String?

    public init(accessKey: String, secretKey: String, sessionToken: String? = nil) {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.sessionToken = sessionToken
    }
}
