import Foundation
import Testing
@testable import ObjectStorage
import RegistryConfig

/// distribution's storage.s3 settings as the client uses them: addressing,
/// endpoint, write headers; and a parsed configuration driving the client
/// against SeaweedFS.
@Suite(.serialized) struct S3ConfigurationTests {
    static func credentials() -> SigV4Credentials { .init(accessKey: "a", secretKey: "s") }

    @Test func virtualHostAndPathStyleAddressing() {
        var config = S3ClientConfiguration(scheme: "https", host: "s3.eu-west-3.amazonaws.com", region: "eu-west-3",
                                           bucket: "berth-blobs", credentials: Self.credentials())
        #expect(config.hostHeader == "berth-blobs.s3.eu-west-3.amazonaws.com")
        #expect(config.path(for: "docker/registry/v2/a b") == "/docker/registry/v2/a%20b")
        #expect(config.path(for: nil) == "/")
        config.forcePathStyle = true
        #expect(config.hostHeader == "s3.eu-west-3.amazonaws.com")
        #expect(config.path(for: "k+ü") == "/berth-blobs/k%2B%C3%BC")
        #expect(config.path(for: nil) == "/berth-blobs")
        // Not a DNS-safe bucket name for TLS: path style regardless.
        config.forcePathStyle = false
        config.bucket = "dotted.bucket.name"
        #expect(config.hostHeader == "s3.eu-west-3.amazonaws.com")
        config.scheme = "http"
        config.port = 8080
        #expect(config.hostHeader == "dotted.bucket.name.s3.eu-west-3.amazonaws.com:8080")
        config.port = 80
        #expect(config.hostHeader == "dotted.bucket.name.s3.eu-west-3.amazonaws.com")
    }

    @Test func registrySettingsMapOntoTheClient() throws {
        let yaml = """
            version: 0.1
            storage:
              s3:
                region: eu-west-3
                bucket: berth
                accesskey: AK
                secretkey: SK
                sessiontoken: TOKEN
                encrypt: true
                keyid: kms-key
                storageclass: ONEZONE_IA
                objectacl: bucket-owner-read
                useragent: berth/test
                skipverify: true
                multipartcopychunksize: 6291456
                multipartcopymaxconcurrency: 3
                multipartcopythresholdsize: 1048576
                loglevel: debugwithrequestretries
            """
        let s3 = try #require(try RegistryConfiguration.parse(yaml: yaml, environment: [:], acceptObjectStorage: true).storage.s3)
        let config = S3ClientConfiguration(s3)
        #expect(config.scheme == "https" && config.host == "s3.eu-west-3.amazonaws.com" && config.port == nil)
        #expect(config.credentials == SigV4Credentials(accessKey: "AK", secretKey: "SK", sessionToken: "TOKEN"))
        #expect(config.serverSideEncryption == "aws:kms" && config.kmsKeyID == "kms-key")
        #expect(config.storageClass == "ONEZONE_IA" && config.objectACL == "bucket-owner-read" && config.userAgent == "berth/test")
        #expect(config.skipVerify && config.requestLogging == .retries)
        #expect(config.multipartCopyChunkSize == 6 << 20 && config.multipartCopyMaxConcurrency == 3
                && config.multipartCopyThresholdSize == 1 << 20)
        let client = S3Client(config)
        let headers = Dictionary(client.writeHeaders, uniquingKeysWith: { a, _ in a })
        #expect(headers["x-amz-storage-class"] == "ONEZONE_IA")
        #expect(headers["x-amz-server-side-encryption"] == "aws:kms")
        #expect(headers["x-amz-server-side-encryption-aws-kms-key-id"] == "kms-key")
        #expect(headers["x-amz-acl"] == "bucket-owner-read")
        try? client.http.syncShutdown()
    }

    /// A distribution-style config.yml with regionendpoint, credentials from
    /// the AWS environment variables, drives the client on SeaweedFS.
    @Test func parsedConfigurationTalksToSeaweedFS() async throws {
        let server = try await SeaweedFS.start()
        defer { server.stop() }
        let yaml = """
            version: 0.1
            storage:
              s3:
                regionendpoint: http://127.0.0.1:\(server.s3Port)
                bucket: \(SeaweedFS.bucket)
                forcepathstyle: true
                secure: false
                storageclass: STANDARD
                useragent: berth-config-test
            """
        let environment = ["AWS_ACCESS_KEY_ID": SeaweedFS.accessKey, "AWS_SECRET_ACCESS_KEY": SeaweedFS.secretKey,
                           "AWS_REGION": "us-east-1"]
        let s3 = try #require(try RegistryConfiguration.parse(yaml: yaml, environment: environment, acceptObjectStorage: true).storage.s3)
        let client = S3Client(S3ClientConfiguration(s3))
        do {
            try await client.putObject("configured/key", body: .bytes(Array("configured".utf8)))
            #expect(try await S3ClientTests.collect(client.getObject("configured/key")) == Array("configured".utf8))
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}
