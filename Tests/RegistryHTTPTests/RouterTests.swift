import Testing
@testable import RegistryHTTP

@Suite("Router")
struct RouterTests {
    func route(_ target: String) throws -> Route { try Router.match(target).route }

    @Test func baseAndCatalog() throws {
        #expect(try route("/v2/") == .base)
        #expect(try route("/v2") == .base)
        #expect(try route("/v2/_catalog?n=2") == .catalog)
    }

    @Test func endpoints() throws {
        #expect(try route("/v2/library/ubuntu/tags/list") == .tags(name: "library/ubuntu"))
        #expect(try route("/v2/a/manifests/latest") == .manifest(name: "a", reference: "latest"))
        #expect(try route("/v2/a/b/c/blobs/sha256:abc") == .blob(name: "a/b/c", digest: "sha256:abc"))
        #expect(try route("/v2/a/blobs/uploads/") == .uploads(name: "a"))
        #expect(try route("/v2/a/blobs/uploads") == .uploads(name: "a"))
        #expect(try route("/v2/a/blobs/uploads/1234-ab") == .upload(name: "a", id: "1234-ab"))
        #expect(try route("/v2/a/referrers/sha256:abc") == .referrers(name: "a", digest: "sha256:abc"))
    }

    @Test func namesWithEndpointWordsMatchFromTheRight() throws {
        #expect(try route("/v2/blobs/manifests/manifests/x") == .manifest(name: "blobs/manifests", reference: "x"))
        #expect(try route("/v2/manifests/blobs/blobs/sha256:1") == .blob(name: "manifests/blobs", digest: "sha256:1"))
        #expect(try route("/v2/x/blobs/uploads/blobs/uploads/") == .uploads(name: "x/blobs/uploads"))
        #expect(try route("/v2/tags/tags/list") == .tags(name: "tags"))
        #expect(try route("/v2/a/referrers/referrers/sha256:1") == .referrers(name: "a/referrers", digest: "sha256:1"))
    }

    @Test(arguments: [
        "/v2/a/../b/manifests/latest", "/v2/../manifests/latest", "/v2/a/./b/blobs/sha256:1",
        "/v2/a%2fb/manifests/latest", "/v2/a%2e%2e/manifests/x", "/v2/a/%2E%2E/tags/list",
        "/v2/a//b/tags/list", "/v2/UPPER/tags/list", "/v2/-a/manifests/x",
    ])
    func invalidNames(_ target: String) {
        #expect(throws: (any Error).self) { try Router.match(target) }
        do {
            _ = try Router.match(target)
        } catch {
            #expect(RegistryError.from(error).code == .nameInvalid, "\(target)")
        }
    }

    @Test(arguments: ["/", "/v1/", "/v2/a", "/v2/a/manifests/", "/v2/a/blobs/", "/v2/a/tags", "/v2x/a/tags/list", "/v2/a/other/x"])
    func notFound(_ target: String) {
        #expect(throws: RouterError.notFound) { try Router.match(target) }
    }

    @Test func query() throws {
        let q = try Router.match("/v2/a/manifests/x?tag=one&tag=two&n=5&last=a%2Fb&artifactType=application%2Fvnd.x%2Bjson&empty").query
        #expect(q.all("tag") == ["one", "two"])
        #expect(q["n"] == "5")
        #expect(q["last"] == "a/b")
        #expect(q["artifactType"] == "application/vnd.x+json")
        #expect(q["empty"] == "")
        #expect(q["missing"] == nil)
        #expect(QueryParameters("a=b+c")["a"] == "b c")
    }

    @Test func encodeRoundTrip() {
        let s = "a/b c+d"
        #expect(QueryParameters.decode(Substring(QueryParameters.encode(s))) == s)
    }
}
