import Foundation
import Testing

/// `regctl serve` with distribution's `storage.s3` (valid settings, valid
/// credentials from the AWS environment) refuses to start, naming the key:
/// the engine does not yet store blobs in S3.
@Suite struct ServeS3RefusalTests {
    @Test func serveRefusesS3Storage() throws {
        let f = try StoreFixture()
        try """
            version: 0.1
            storage:
              s3:
                region: us-east-1
                regionendpoint: http://127.0.0.1:1
                bucket: berth
                forcepathstyle: true
                chunksize: 5242880
            """.write(toFile: f.config, atomically: true, encoding: .utf8)
        let port = try Regctl.freePort()
        let result = try Regctl.run(["serve", f.config], environment: [
            "REGISTRY_HTTP_ADDR": "127.0.0.1:\(port)",
            "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret",
        ])
        #expect(result.status != 0, "\(result)")
        #expect(result.stderr.contains("storage.s3"), "\(result)")
        #expect(result.stderr.contains("not yet servable"), "\(result)")
    }
}
