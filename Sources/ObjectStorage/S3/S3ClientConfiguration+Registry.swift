// distribution's `storage.s3` settings (parsed by RegistryConfig) turned
// into the S3 client's configuration.
//
// Thread safety: pure function.

import RegistryConfig

extension S3ClientConfiguration {
    public init(_ s3: RegistryConfiguration.Storage.S3) {
        let endpoint = s3.endpoint
        self.init(scheme: endpoint.scheme, host: endpoint.host, port: endpoint.port, region: s3.region, bucket: s3.bucket,
                  credentials: SigV4Credentials(accessKey: s3.accessKey, secretKey: s3.secretKey, sessionToken: s3.sessionToken),
                  forcePathStyle: s3.forcePathStyle)
        skipVerify = s3.skipVerify
        userAgent = s3.userAgent
        storageClass = s3.storageClass
        if s3.encrypt {
            serverSideEncryption = s3.keyID == nil ? "AES256" : "aws:kms"
            kmsKeyID = s3.keyID
        }
        objectACL = s3.objectACL
        multipartCopyChunkSize = Int64(s3.multipartCopyChunkSize)
        multipartCopyMaxConcurrency = s3.multipartCopyMaxConcurrency
        multipartCopyThresholdSize = Int64(s3.multipartCopyThresholdSize)
        switch s3.logLevel {
        case .off: requestLogging = .off
        case .debug: requestLogging = .requests
        case .debugWithSigning: requestLogging = .signing
        case .debugWithRequestRetries: requestLogging = .retries
        }
    }
}
