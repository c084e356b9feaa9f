import Foundation

extension RegistryConfiguration.Storage {
    /// `storage.s3` — distribution's s3 driver parameters. Every key is
    /// either carried here for the S3 client (ObjectStorage) or refused by
    /// name; credentials and region fall back to the AWS environment
    /// variables. Parsed and validated, but not yet servable: the engine
    /// does not store blobs in S3, so `RegistryConfiguration.load` refuses a
    /// configuration naming it unless the caller accepts object storage.
    public struct S3: Sendable, Equatable {
        public var region: String
        /// Full endpoint URL for S3-compatible services (nil: AWS).
        public var regionEndpoint: String?
        public var bucket: String
        public var accessKey: String
        public var secretKey: String
        public var sessionToken: String?
        /// Object key prefix, no leading or trailing '/' ("" for none).
        public var rootDirectory = ""
        public var forcePathStyle = false
        public var secure = true
        public var skipVerify = false
        /// Upload part size (distribution's default 10 MiB, minimum 5 MiB).
        public var chunkSize = 10 << 20
        public var multipartCopyChunkSize = 32 << 20
        public var multipartCopyMaxConcurrency = 100
        public var multipartCopyThresholdSize = 32 << 20
        /// nil: no x-amz-storage-class header ("NONE").
        public var storageClass: String? = "STANDARD"
        public var encrypt = false
        public var keyID: String?
        public var userAgent: String?
        public var useDualStack = false
        public var accelerate = false
        public var objectACL = "private"
        public var logLevel = LogLevel.off

        public enum LogLevel: String, Sendable, Equatable, CaseIterable {
            case off
            /// Each request and its answer (method, key, status, attempts).
            case debug
            /// Also the canonical request and string to sign.
            case debugWithSigning = "debugwithsigning"
            /// Also every retried attempt with its error.
            case debugWithRequestRetries = "debugwithrequestretries"
        }

        public static let minimumChunkSize = 5 << 20
        public static let maximumChunkSize = 5 << 30
        public static let storageClasses: Set<String> = [
            "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "OUTPOSTS", "GLACIER_IR", "NONE",
        ]
        public static let cannedACLs: Set<String> = [
            "private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read",
            "bucket-owner-read", "bucket-owner-full-control",
        ]

        public init(region: String, bucket: String, accessKey: String, secretKey: String) {
            self.region = region
            self.bucket = bucket
            self.accessKey = accessKey
            self.secretKey = secretKey
        }
    }
}

extension RegistryConfiguration.Storage.S3 {
    init(_ reader: SectionReader, environment: [String: String]) throws {
        func env(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        func nonEmpty(_ key: String) throws -> String? { try reader.string(key).flatMap { $0.isEmpty ? nil : $0 } }

        guard let bucket = try nonEmpty("bucket") else {
            throw ConfigurationError.invalid(reader.keyPath("bucket"), "is required", origin: reader.origin)
        }
        let endpoint = try nonEmpty("regionendpoint")
        let region = try nonEmpty("region") ?? env("AWS_REGION") ?? env("AWS_DEFAULT_REGION")
        guard let region else {
            throw ConfigurationError.invalid(reader.keyPath("region"),
                "is required (or set AWS_REGION); S3-compatible services usually take us-east-1", origin: reader.origin)
        }

        var accessKey = try nonEmpty("accesskey")
        var secretKey = try nonEmpty("secretkey")
        var token = try nonEmpty("sessiontoken")
        if accessKey == nil && secretKey == nil {
            accessKey = env("AWS_ACCESS_KEY_ID")
            secretKey = env("AWS_SECRET_ACCESS_KEY")
            token = token ?? env("AWS_SESSION_TOKEN")
        }
        guard let accessKey, let secretKey else {
            if accessKey != nil || secretKey != nil {
                throw ConfigurationError.invalid(reader.keyPath(accessKey == nil ? "accesskey" : "secretkey"),
                    "is required when \(accessKey == nil ? "secretkey" : "accesskey") is set", origin: reader.origin)
            }
            throw ConfigurationError.unsupported(reader.keyPath("accesskey"), origin: reader.origin,
                reason: "no S3 credentials: set accesskey and secretkey, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; "
                    + "instance-profile and shared-file credentials are not implemented")
        }
        self.init(region: region, bucket: bucket, accessKey: accessKey, secretKey: secretKey)
        sessionToken = token
        regionEndpoint = endpoint

        if let root = try reader.string("rootdirectory") {
            rootDirectory = root.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
        }
        forcePathStyle = try reader.bool("forcepathstyle") ?? false
        secure = try reader.bool("secure") ?? true
        skipVerify = try reader.bool("skipverify") ?? false
        if let v4 = try reader.bool("v4auth"), !v4 {
            throw ConfigurationError.unsupported(reader.keyPath("v4auth"), origin: reader.origin(of: "v4auth"),
                reason: "only Signature Version 4 is implemented (v4auth: false asks for Signature Version 2)")
        }
        chunkSize = try size(reader, "chunksize", default: chunkSize, minimum: Self.minimumChunkSize)
        multipartCopyChunkSize = try size(reader, "multipartcopychunksize", default: multipartCopyChunkSize,
                                          minimum: Self.minimumChunkSize)
        multipartCopyThresholdSize = try size(reader, "multipartcopythresholdsize", default: multipartCopyThresholdSize,
                                              minimum: 0)
        if let concurrency = try reader.int("multipartcopymaxconcurrency") {
            guard concurrency > 0 else {
                throw ConfigurationError.invalid(reader.keyPath("multipartcopymaxconcurrency"), "must be positive")
            }
            multipartCopyMaxConcurrency = concurrency
        }
        if let storageClass = try reader.string("storageclass") {
            guard Self.storageClasses.contains(storageClass) else {
                throw ConfigurationError.invalid(reader.keyPath("storageclass"),
                    "\"\(storageClass)\" is not one of: \(Self.storageClasses.sorted().joined(separator: ", "))")
            }
            self.storageClass = storageClass == "NONE" ? nil : storageClass
        }
        encrypt = try reader.bool("encrypt") ?? false
        keyID = try nonEmpty("keyid")
        if keyID != nil && !encrypt {
            throw ConfigurationError.invalid(reader.keyPath("keyid"), "needs encrypt: true (a KMS key is used only for encryption)")
        }
        userAgent = try nonEmpty("useragent")
        useDualStack = try reader.bool("usedualstack") ?? false
        accelerate = try reader.bool("accelerate") ?? false
        if endpoint != nil, useDualStack || accelerate {
            throw ConfigurationError.invalid(reader.keyPath(accelerate ? "accelerate" : "usedualstack"),
                "chooses an AWS endpoint and cannot be combined with regionendpoint")
        }
        if accelerate && forcePathStyle {
            throw ConfigurationError.invalid(reader.keyPath("accelerate"), "needs virtual-host addressing; drop forcepathstyle")
        }
        if try reader.bool("usefipsendpoint") == true {
            throw ConfigurationError.unsupported(reader.keyPath("usefipsendpoint"), origin: reader.origin(of: "usefipsendpoint"),
                reason: "FIPS endpoints are not implemented")
        }
        if let acl = try reader.string("objectacl") {
            guard Self.cannedACLs.contains(acl) else {
                throw ConfigurationError.invalid(reader.keyPath("objectacl"),
                    "\"\(acl)\" is not a canned ACL (\(Self.cannedACLs.sorted().joined(separator: ", ")))")
            }
            objectACL = acl
        }
        if let level = try reader.string("loglevel") {
            guard let parsed = LogLevel(rawValue: level.lowercased()) else {
                throw ConfigurationError.unsupported(reader.keyPath("loglevel"), origin: reader.origin(of: "loglevel"),
                    reason: "\"\(level)\" is not implemented; use one of: \(LogLevel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            logLevel = parsed
        }
        if let endpoint {
            guard let url = URL(string: endpoint.contains("://") ? endpoint : "https://" + endpoint),
                  let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil,
                  url.path.isEmpty || url.path == "/" else {
                throw ConfigurationError.invalid(reader.keyPath("regionendpoint"),
                    "\"\(endpoint)\" is not an http(s) URL of an S3 endpoint (scheme, host and optional port, no path)")
            }
        }
        try reader.finish()
    }

    private func size(_ reader: SectionReader, _ key: String, default value: Int, minimum: Int) throws -> Int {
        guard let size = try reader.int(key) else { return value }
        guard size >= minimum, size <= Self.maximumChunkSize else {
            throw ConfigurationError.invalid(reader.keyPath(key), "must be between \(minimum) and \(Self.maximumChunkSize) bytes")
        }
        return size
    }

    /// Scheme, host and port the client talks to.
    public var endpoint: (scheme: String, host: String, port: Int?) {
        if let regionEndpoint {
            let url = URL(string: regionEndpoint.contains("://") ? regionEndpoint : (secure ? "https://" : "http://") + regionEndpoint)!
            return (url.scheme!, url.host!, url.port)
        }
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        let host: String
        if accelerate {
            host = useDualStack ? "s3-accelerate.dualstack.amazonaws.com" : "s3-accelerate.amazonaws.com"
        } else {
            host = useDualStack ? "s3.dualstack.\(region).\(suffix)" : "s3.\(region).\(suffix)"
        }
        return (secure ? "https" : "http", host, nil)
    }
}
