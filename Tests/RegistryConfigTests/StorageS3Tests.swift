import Foundation
import Testing
@testable import RegistryConfig

/// distribution's `storage.s3` keys: parsed when the caller accepts object
/// storage, refused by name (as not yet servable) otherwise.
@Suite struct StorageS3Tests {
    static let full = """
        version: 0.1
        storage:
          s3:
            accesskey: AKID
            secretkey: SECRET
            region: eu-west-3
            regionendpoint: http://127.0.0.1:8333
            bucket: berth
            rootdirectory: /s3/object/name/prefix/
            forcepathstyle: true
            secure: false
            skipverify: true
            v4auth: true
            chunksize: 5242880
            multipartcopychunksize: 33554432
            multipartcopymaxconcurrency: 7
            multipartcopythresholdsize: 0
            storageclass: STANDARD_IA
            encrypt: true
            keyid: arn:aws:kms:eu-west-3:1:key/k
            useragent: berth-test
            usedualstack: false
            accelerate: false
            objectacl: bucket-owner-full-control
            loglevel: debugwithsigning
            usefipsendpoint: false
        """

    static func s3(_ yaml: String, environment: [String: String] = [:]) throws -> RegistryConfiguration.Storage.S3 {
        try #require(try RegistryConfiguration.parse(yaml: yaml, environment: environment, acceptObjectStorage: true).storage.s3)
    }

    static func failure(_ yaml: String, environment: [String: String] = [:]) -> ConfigurationError? {
        do {
            _ = try RegistryConfiguration.parse(yaml: yaml, environment: environment, acceptObjectStorage: true)
            return nil
        } catch { return error as? ConfigurationError }
    }

    @Test func everyKeyIsRead() throws {
        let s3 = try Self.s3(Self.full)
        #expect(s3.accessKey == "AKID" && s3.secretKey == "SECRET" && s3.region == "eu-west-3" && s3.bucket == "berth")
        #expect(s3.regionEndpoint == "http://127.0.0.1:8333")
        #expect(s3.endpoint.scheme == "http" && s3.endpoint.host == "127.0.0.1" && s3.endpoint.port == 8333)
        #expect(s3.rootDirectory == "s3/object/name/prefix")
        #expect(s3.forcePathStyle && !s3.secure && s3.skipVerify)
        #expect(s3.chunkSize == 5 << 20 && s3.multipartCopyChunkSize == 32 << 20)
        #expect(s3.multipartCopyMaxConcurrency == 7 && s3.multipartCopyThresholdSize == 0)
        #expect(s3.storageClass == "STANDARD_IA" && s3.encrypt && s3.keyID == "arn:aws:kms:eu-west-3:1:key/k")
        #expect(s3.userAgent == "berth-test" && s3.objectACL == "bucket-owner-full-control" && s3.logLevel == .debugWithSigning)
    }

    @Test func defaultsAndAWSEndpoints() throws {
        let s3 = try Self.s3("version: 0.1\nstorage:\n  s3:\n    bucket: b\n    region: us-west-2\n    accesskey: a\n    secretkey: s\n")
        #expect(s3.chunkSize == 10 << 20 && s3.secure && !s3.forcePathStyle && s3.storageClass == "STANDARD")
        #expect(s3.multipartCopyMaxConcurrency == 100 && s3.multipartCopyThresholdSize == 32 << 20 && s3.objectACL == "private")
        #expect(s3.endpoint.scheme == "https" && s3.endpoint.host == "s3.us-west-2.amazonaws.com" && s3.endpoint.port == nil)
        let dual = try Self.s3("version: 0.1\nstorage:\n  s3:\n    bucket: b\n    region: cn-north-1\n    accesskey: a\n    secretkey: s\n    usedualstack: true\n")
        #expect(dual.endpoint.host == "s3.dualstack.cn-north-1.amazonaws.com.cn")
        let fast = try Self.s3("version: 0.1\nstorage:\n  s3:\n    bucket: b\n    region: us-east-1\n    accesskey: a\n    secretkey: s\n    accelerate: true\n")
        #expect(fast.endpoint.host == "s3-accelerate.amazonaws.com")
        let none = try Self.s3("version: 0.1\nstorage:\n  s3:\n    bucket: b\n    region: r\n    accesskey: a\n    secretkey: s\n    storageclass: NONE\n")
        #expect(none.storageClass == nil)
    }

    @Test func credentialsAndRegionFromAWSEnvironment() throws {
        let env = ["AWS_ACCESS_KEY_ID": "envkey", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_SESSION_TOKEN": "envtoken",
                   "AWS_REGION": "ap-south-1"]
        let s3 = try Self.s3("version: 0.1\nstorage:\n  s3:\n    bucket: b\n", environment: env)
        #expect(s3.accessKey == "envkey" && s3.secretKey == "envsecret" && s3.sessionToken == "envtoken" && s3.region == "ap-south-1")
        // Keys in the file win over the environment, as a pair.
        let file = try Self.s3("version: 0.1\nstorage:\n  s3:\n    bucket: b\n    region: r\n    accesskey: a\n    secretkey: s\n",
                               environment: env)
        #expect(file.accessKey == "a" && file.secretKey == "s" && file.sessionToken == nil && file.region == "r")
        // REGISTRY_* overrides reach the section too.
        let overridden = try Self.s3("version: 0.1\nstorage:\n  s3:\n    bucket: b\n",
                                     environment: env.merging(["REGISTRY_STORAGE_S3_BUCKET": "fromenv"]) { $1 })
        #expect(overridden.bucket == "fromenv")
    }

    @Test(arguments: [
        ("region: r\n    accesskey: a\n    secretkey: s", "storage.s3.bucket", "is required"),
        ("bucket: b\n    accesskey: a\n    secretkey: s", "storage.s3.region", "is required"),
        ("bucket: b\n    region: r", "storage.s3.accesskey", "no S3 credentials"),
        ("bucket: b\n    region: r\n    accesskey: a", "storage.s3.secretkey", "is required"),
        ("bucket: b\n    region: r\n    accesskey: a\n    secretkey: s\n    v4auth: false", "storage.s3.v4auth", "Signature Version 2"),
        ("bucket: b\n    region: r\n    accesskey: a\n    secretkey: s\n    chunksize: 1000", "storage.s3.chunksize", "between"),
        ("bucket: b\n    region: r\n    accesskey: a\n    secretkey: s\n    multipartcopymaxconcurrency: 0", "storage.s3.multipartcopymaxconcurrency", "positive"),
        ("bucket: b\n    region: r\n    accesskey: a\n    secretkey: s\n    storageclass: CHEAP", "storage.s3.storageclass", "not one of"),
        ("bucket: b\n    region: r\n    accesskey: a\n    secretkey: s\n    keyid: k", "storage.s3.keyid", "encrypt: true"),
        ("bucket: b\n    region: r\n    accesskey: a\n    secretkey: s\n    objectacl: everyone", "storage.s3.objectacl", "canned ACL"),
        ("bucket: b\n    region: r\n    accesskey: a\n    secretkey: s\n    loglevel: debugwithhttpbody", "storage.s3.loglevel", "not implemented"),
        ("bucket: b\n    region: r\n    accesskey: a\n    secretkey: s\n    usefipsendpoint: true", "storage.s3.usefipsendpoint", "FIPS"),
        ("bucket: b\n    region: r\n    accesskey: a\n    secretkey: s\n    regionendpoint: http://h\n    accelerate: true", "storage.s3.accelerate", "regionendpoint"),
        ("bucket: b\n    region: r\n    accesskey: a\n    secretkey: s\n    regionendpoint: ftp://h", "storage.s3.regionendpoint", "not an http(s) URL"),
        ("bucket: b\n    region: r\n    accesskey: a\n    secretkey: s\n    checksumalgorithm: crc32", "storage.s3.checksumalgorithm", "not supported by Berth"),
    ])
    func badSettingsAreRefusedByName(_ settings: String, _ keyPath: String, _ words: String) {
        let error = Self.failure("version: 0.1\nstorage:\n  s3:\n    \(settings)\n")
        #expect(error?.keyPath == keyPath, "\(String(describing: error))")
        #expect(error?.message.contains(words) == true, "\(String(describing: error))")
    }

    /// What every server and operator command gets: storage.s3 refused by name.
    @Test func notServableByDefault() {
        let error = expectFailure(yaml: Self.full)
        #expect(error?.keyPath == "storage.s3")
        #expect(error?.message.contains("parsed but not yet servable") == true)
        let fromEnv = expectFailure(yaml: "version: 0.1\n", environment: ["REGISTRY_STORAGE": "s3"])
        #expect(fromEnv?.keyPath == "storage.s3" && fromEnv?.message.contains("REGISTRY_STORAGE") == true)
    }
}
