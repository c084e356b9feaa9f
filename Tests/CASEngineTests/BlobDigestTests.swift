import Testing
@testable import CASEngine

@Suite struct BlobDigestTests {
    @Test func roundTripsStringForm() throws {
        let s = "sha256:" + String(repeating: "ab", count: 32)
        let d = try #require(BlobDigest(s))
        #expect(d.description == s)
        #expect(BlobDigest(key: d.key) == d)
    }

    @Test func rejectsMalformed() {
        #expect(BlobDigest("sha256:" + String(repeating: "AB", count: 32)) == nil)
        #expect(BlobDigest("sha256:abc") == nil)
        #expect(BlobDigest("md5:" + String(repeating: "ab", count: 16)) == nil)
        #expect(BlobDigest("sha512:" + String(repeating: "ab", count: 32)) == nil)
    }
}
