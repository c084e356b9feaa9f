import Foundation
import Testing

/// Real clients (skopeo, the oras Python client) against a real registry
/// process. Every test builds its images locally, starts its own server on a
/// free 127.0.0.1 port with a temporary storage root, and stops it at the end.
///
/// The server is `regctl serve`; `BERTH_INTEROP_SERVER=docker-registry` runs the
/// same tests against distribution 2.8 to validate the harness itself.
@Suite("Interop with real clients", .serialized, .timeLimit(.minutes(5)))
struct InteropTests {
    static let signatureType = "application/vnd.example.signature.v1"

    @Test("skopeo copies a three-layer image in and back out with every digest intact")
    func skopeoImageRoundTrip() throws {
        _ = try Skopeo.executable()
        let work = try TemporaryDirectory("image")
        let layout = try OCILayout.create(at: work.path("src"))
        let image = try layout.addImage(seed: "app", layerCount: 3, largeLayerBytes: 1 << 20)
        try layout.tag(image.manifest, as: "v1")

        try withRegistry { server in
            let remote = "docker://\(server.host)/interop/app:v1"
            try Skopeo.copy("oci:\(layout.root.path):v1", remote)

            let raw = try Skopeo.inspectRaw(remote)
            #expect(try SHA256.digest(of: raw) == image.manifest.digest)
            #expect(try raw == layout.blob(image.manifest.digest), "manifest bytes must be served unchanged")

            let head = try HTTPProbe.request(
                method: "HEAD", url: "\(server.baseURL)/v2/interop/app/manifests/v1",
                headers: ["Accept": MediaTypes.imageManifest])
            #expect(head.status == 200)
            #expect(head.header("Docker-Content-Digest") == image.manifest.digest)
            #expect(head.header("Content-Type") == MediaTypes.imageManifest)

            let back = OCILayout(at: work.path("back"))
            try Skopeo.copy(remote, "oci:\(back.root.path):v1")
            #expect(try back.entry(forRef: "v1").digest == image.manifest.digest)
            #expect(try back.blob(image.manifest.digest) == layout.blob(image.manifest.digest))
            for blob in [image.config] + image.layers {
                #expect(back.hasBlob(blob.digest), "copied-back layout lacks \(blob.digest)")
                #expect(try back.blob(blob.digest) == layout.blob(blob.digest), "blob \(blob.digest) differs")
            }

            #expect(try Skopeo.listTags("docker://\(server.host)/interop/app") == ["v1"])

            // Registry to registry: skopeo mounts the blobs across repositories.
            let mirror = "docker://\(server.host)/interop/mirror:v1"
            try Skopeo.copy(remote, mirror)
            #expect(try SHA256.digest(of: Skopeo.inspectRaw(mirror)) == image.manifest.digest)
            for blob in [image.config] + image.layers {
                let head = try HTTPProbe.request(
                    method: "HEAD", url: "\(server.baseURL)/v2/interop/mirror/blobs/\(blob.digest)")
                #expect(head.status == 200)
                #expect(head.header("Content-Length") == String(blob.size))
                #expect(head.header("Docker-Content-Digest") == blob.digest)
            }

            let catalog = try HTTPProbe.request(url: "\(server.baseURL)/v2/_catalog")
            #expect(catalog.status == 200)
            let repositories = (try catalog.json()["repositories"] as? [String]) ?? []
            #expect(repositories.contains("interop/app") && repositories.contains("interop/mirror"), "\(repositories)")

            // The same image pulled by digest instead of by tag.
            let byDigest = OCILayout(at: work.path("by-digest"))
            try Skopeo.copy(
                "docker://\(server.host)/interop/app@\(image.manifest.digest)", "oci:\(byDigest.root.path):pinned")
            #expect(try byDigest.entry(forRef: "pinned").digest == image.manifest.digest)
        }
    }

    @Test("skopeo copy --all keeps a multi-arch index and both platform manifests")
    func skopeoMultiArchIndex() throws {
        _ = try Skopeo.executable()
        let work = try TemporaryDirectory("multi")
        let layout = try OCILayout.create(at: work.path("src"))
        let amd64 = try layout.addImage(seed: "multi", layerCount: 2, architecture: "amd64")
        let arm64 = try layout.addImage(seed: "multi", layerCount: 2, architecture: "arm64")
        let index = try layout.addIndex([amd64.platformManifest, arm64.platformManifest])
        try layout.tag(index, as: "v1")

        try withRegistry { server in
            let remote = "docker://\(server.host)/interop/multi:v1"
            try Skopeo.copy("oci:\(layout.root.path):v1", remote, all: true)

            let raw = try Skopeo.inspectRaw(remote)
            #expect(try SHA256.digest(of: raw) == index.digest, "index digest must be preserved")

            let get = try HTTPProbe.request(
                url: "\(server.baseURL)/v2/interop/multi/manifests/v1",
                headers: ["Accept": "\(MediaTypes.imageIndex), \(MediaTypes.imageManifest)"])
            #expect(get.status == 200)
            #expect(get.header("Content-Type") == MediaTypes.imageIndex)
            #expect(get.header("Docker-Content-Digest") == index.digest)

            for child in [amd64, arm64] {
                let childRaw = try Skopeo.inspectRaw("docker://\(server.host)/interop/multi@\(child.manifest.digest)")
                #expect(try SHA256.digest(of: childRaw) == child.manifest.digest)
                let childGet = try HTTPProbe.request(
                    url: "\(server.baseURL)/v2/interop/multi/manifests/\(child.manifest.digest)",
                    headers: ["Accept": MediaTypes.imageManifest])
                #expect(childGet.status == 200)
                #expect(childGet.header("Content-Type") == MediaTypes.imageManifest)
                #expect(try childGet.body == layout.blob(child.manifest.digest))
            }

            let back = OCILayout(at: work.path("back"))
            try Skopeo.copy(remote, "oci:\(back.root.path):v1", all: true)
            #expect(try back.entry(forRef: "v1").digest == index.digest)
            for child in [amd64, arm64] {
                for blob in [child.manifest, child.config] + child.layers {
                    #expect(try back.hasBlob(blob.digest) && back.blob(blob.digest) == layout.blob(blob.digest),
                            "\(child.platformManifest.platform?.architecture ?? "?") blob \(blob.digest) differs")
                }
            }
        }
    }

    @Test("skopeo --format v2s2 pushes Docker schema 2 manifests and lists that come back byte for byte")
    func skopeoDockerSchema2() throws {
        _ = try Skopeo.executable()
        let work = try TemporaryDirectory("schema2")
        let layout = try OCILayout.create(at: work.path("src"))
        let amd64 = try layout.addImage(seed: "docker", layerCount: 2, architecture: "amd64")
        let arm64 = try layout.addImage(seed: "docker", layerCount: 1, architecture: "arm64")
        let index = try layout.addIndex([amd64.platformManifest, arm64.platformManifest])
        try layout.tag(amd64.manifest, as: "single")
        try layout.tag(index, as: "multi")

        try withRegistry { server in
            let single = "docker://\(server.host)/interop/docker:single"
            try Skopeo.copy("oci:\(layout.root.path):single", single, preserveDigests: false, format: "v2s2")
            let raw = try Skopeo.inspectRaw(single)
            let manifest = try #require(try JSONSerialization.jsonObject(with: raw) as? [String: Any])
            #expect(manifest["mediaType"] as? String == MediaTypes.dockerManifest)
            #expect((manifest["config"] as? [String: Any])?["digest"] as? String == amd64.config.digest)
            #expect((manifest["layers"] as? [[String: Any]])?.compactMap { $0["digest"] as? String }
                    == amd64.layers.map(\.digest), "converting the manifest leaves the gzip layers alone")

            let get = try HTTPProbe.request(
                url: "\(server.baseURL)/v2/interop/docker/manifests/single",
                headers: ["Accept": "\(MediaTypes.dockerManifest), \(MediaTypes.dockerManifestList)"])
            #expect(get.status == 200)
            #expect(get.header("Content-Type") == MediaTypes.dockerManifest)
            #expect(try get.header("Docker-Content-Digest") == SHA256.digest(of: raw))
            #expect(get.body == raw)

            // dir: keeps the manifest bytes and names blobs by hex digest.
            let dir = work.path("dir")
            try Skopeo.copy(single, "dir:\(dir.path)", preserveDigests: true)
            #expect(try Data(contentsOf: dir.appendingPathComponent("manifest.json")) == raw)
            for blob in [amd64.config] + amd64.layers {
                #expect(try Data(contentsOf: dir.appendingPathComponent(blob.hex)) == layout.blob(blob.digest))
            }

            let multi = "docker://\(server.host)/interop/docker:multi"
            try Skopeo.copy("oci:\(layout.root.path):multi", multi, all: true, preserveDigests: false, format: "v2s2")
            let listRaw = try Skopeo.inspectRaw(multi)
            let list = try #require(try JSONSerialization.jsonObject(with: listRaw) as? [String: Any])
            #expect(list["mediaType"] as? String == MediaTypes.dockerManifestList)
            let children = (list["manifests"] as? [[String: Any]]) ?? []
            #expect(children.count == 2)
            for child in children {
                let digest = try #require(child["digest"] as? String)
                #expect(child["mediaType"] as? String == MediaTypes.dockerManifest)
                let childRaw = try Skopeo.inspectRaw("docker://\(server.host)/interop/docker@\(digest)")
                #expect(try SHA256.digest(of: childRaw) == digest)
            }
            let listGet = try HTTPProbe.request(
                url: "\(server.baseURL)/v2/interop/docker/manifests/multi",
                headers: ["Accept": "\(MediaTypes.dockerManifestList), \(MediaTypes.dockerManifest)"])
            #expect(listGet.header("Content-Type") == MediaTypes.dockerManifestList)
            #expect(listGet.body == listRaw)
        }
    }

    @Test("a signature-like referrer pushed by skopeo is listed by the referrers API, filter included")
    func skopeoReferrer() throws {
        _ = try Skopeo.executable()
        let work = try TemporaryDirectory("referrer")
        let layout = try OCILayout.create(at: work.path("src"))
        let image = try layout.addImage(seed: "signed", layerCount: 2)
        try layout.tag(image.manifest, as: "v1")
        let signature = try layout.addArtifact(
            artifactType: Self.signatureType, subject: image.manifest,
            payload: Data(#"{"critical":{"image":{"docker-manifest-digest":"\#(image.manifest.digest)"}}}"#.utf8),
            payloadMediaType: "application/vnd.example.signature.v1+json")
        try layout.tag(signature, as: "sig")

        try withRegistry { server in
            let repo = "\(server.host)/interop/app"
            try Skopeo.copy("oci:\(layout.root.path):v1", "docker://\(repo):v1")
            try Skopeo.copy("oci:\(layout.root.path):sig", "docker://\(repo)@\(signature.digest)")
            #expect(try SHA256.digest(of: Skopeo.inspectRaw("docker://\(repo)@\(signature.digest)")) == signature.digest)

            let referrersURL = "\(server.baseURL)/v2/interop/app/referrers/\(image.manifest.digest)"
            let listing = try HTTPProbe.request(url: referrersURL)
            #expect(listing.status == 200)
            #expect(listing.header("Content-Type")?.hasPrefix(MediaTypes.imageIndex) == true)
            let entries = try Self.referrerEntries(listing)
            let entry = entries.first { $0["digest"] as? String == signature.digest }
            #expect(entry != nil, "referrers of the image do not list the signature: \(entries)")
            #expect(entry?["artifactType"] as? String == Self.signatureType)
            #expect(entry?["mediaType"] as? String == MediaTypes.imageManifest)
            #expect(entry?["size"] as? Int == signature.size)
            #expect((entry?["annotations"] as? [String: String])?["org.opencontainers.image.created"] != nil,
                    "referrer descriptors carry the manifest's annotations")

            let filtered = try HTTPProbe.request(url: "\(referrersURL)?artifactType=\(Self.signatureType)")
            #expect(filtered.status == 200)
            #expect(try Self.referrerEntries(filtered).map { $0["digest"] as? String } == [signature.digest])
            #expect(filtered.header("OCI-Filters-Applied") == "artifactType")

            let other = try HTTPProbe.request(url: "\(referrersURL)?artifactType=application/vnd.example.other.v1")
            #expect(other.status == 200)
            #expect(try Self.referrerEntries(other).isEmpty, "a filter nothing matches lists nothing")

            // No referrers at all is an empty index, not a 404.
            let none = try HTTPProbe.request(
                url: "\(server.baseURL)/v2/interop/app/referrers/\(signature.digest)")
            #expect(none.status == 200)
            #expect(try Self.referrerEntries(none).isEmpty)

            // Both come back out of the registry byte for byte.
            let back = OCILayout(at: work.path("back"))
            try Skopeo.copy("docker://\(repo):v1", "oci:\(back.root.path):v1")
            try Skopeo.copy("docker://\(repo)@\(signature.digest)", "oci:\(back.root.path):sig")
            #expect(try back.entry(forRef: "v1").digest == image.manifest.digest)
            #expect(try back.entry(forRef: "sig").digest == signature.digest)
            #expect(try back.blob(signature.digest) == layout.blob(signature.digest))
        }
    }

    @Test("oras pushes and pulls a file artifact and attaches a referrer to it")
    func orasArtifactAndReferrer() throws {
        try Oras.requireClient()
        let work = try TemporaryDirectory("oras")
        let pushDir = work.path("push")
        try FileManager.default.createDirectory(at: pushDir, withIntermediateDirectories: true)
        var generator = SystemRandomNumberGenerator()
        let payload = Data((0..<65_536).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        try payload.write(to: pushDir.appendingPathComponent("payload.bin"))
        try Data(#"{"purpose":"interop"}"#.utf8).write(to: pushDir.appendingPathComponent("config.json"))
        try Data(#"{"sbom":"example","packages":[]}"#.utf8).write(to: pushDir.appendingPathComponent("sbom.json"))
        let artifactConfigType = "application/vnd.example.artifact.config.v1+json"
        let sbomType = "application/vnd.example.sbom.v1"

        try withRegistry { server in
            let target = "\(server.host)/interop/artifact:v1"
            let pushed = try Oras.run(
                Oras.pushScript,
                [target, "payload.bin:application/vnd.example.payload.v1", "config.json:\(artifactConfigType)",
                 #"{"org.example.purpose":"interop"}"#, "0"],
                in: pushDir)
            #expect(pushed["status"] as? Int == 201)
            let digest = try #require(pushed["digest"] as? String, "manifest PUT answered no Docker-Content-Digest")
            let manifest = try #require(pushed["manifest"] as? [String: Any])
            #expect((manifest["config"] as? [String: Any])?["mediaType"] as? String == artifactConfigType)
            #expect(((manifest["layers"] as? [[String: Any]])?.first)?["mediaType"] as? String
                    == "application/vnd.example.payload.v1")
            #expect(try SHA256.digest(of: Skopeo.inspectRaw("docker://\(target)")) == digest)

            let pullDir = work.path("pull")
            let pulled = try Oras.run(Oras.pullScript, [target, pullDir.path], in: pushDir)
            #expect((pulled["files"] as? [String])?.count == 1)
            #expect(try Data(contentsOf: pullDir.appendingPathComponent("payload.bin")) == payload)

            // The same file again through chunked PATCH uploads (16 KiB chunks).
            let chunkedTarget = "\(server.host)/interop/chunked:v1"
            let chunked = try Oras.run(
                Oras.pushScript,
                [chunkedTarget, "payload.bin:application/vnd.example.payload.v1", "config.json:\(artifactConfigType)",
                 #"{"org.example.purpose":"interop"}"#, "16384"],
                in: pushDir)
            #expect(chunked["status"] as? Int == 201)
            let chunkedPull = work.path("pull-chunked")
            _ = try Oras.run(Oras.pullScript, [chunkedTarget, chunkedPull.path], in: pushDir)
            #expect(try Data(contentsOf: chunkedPull.appendingPathComponent("payload.bin")) == payload)

            let size = try #require(pushed["manifestSize"] as? Int)
            let referrer = try Oras.run(
                Oras.pushScript,
                ["\(server.host)/interop/artifact:sbom", "sbom.json:application/vnd.example.sbom.v1+json",
                 "sbom-config-absent.json:\(sbomType)", #"{"org.example.kind":"sbom"}"#, "0",
                 MediaTypes.imageManifest, digest, String(size)],
                in: pushDir)
            #expect(referrer["status"] as? Int == 201)
            let referrerDigest = try #require(referrer["digest"] as? String)
            #expect(referrer["ociSubject"] as? String == digest, "a manifest PUT with a subject answers OCI-Subject")

            let listing = try HTTPProbe.request(url: "\(server.baseURL)/v2/interop/artifact/referrers/\(digest)")
            #expect(listing.status == 200)
            let entries = try Self.referrerEntries(listing)
            let entry = entries.first { $0["digest"] as? String == referrerDigest }
            #expect(entry != nil, "referrers do not list the oras referrer: \(entries)")
            // No artifactType in the manifest: the config media type stands in.
            #expect(entry?["artifactType"] as? String == sbomType)
            #expect((entry?["annotations"] as? [String: String])?["org.example.kind"] == "sbom")
        }
    }

    @Test("skopeo delete removes a manifest by digest and by tag; later inspects fail")
    func skopeoDelete() throws {
        _ = try Skopeo.executable()
        let work = try TemporaryDirectory("delete")
        let layout = try OCILayout.create(at: work.path("src"))
        let first = try layout.addImage(seed: "delete-a", layerCount: 1)
        let second = try layout.addImage(seed: "delete-b", layerCount: 1)
        try layout.tag(first.manifest, as: "a")
        try layout.tag(second.manifest, as: "b")

        try withRegistry { server in
            let repo = "docker://\(server.host)/interop/delete"
            try Skopeo.copy("oci:\(layout.root.path):a", "\(repo):v1")
            try Skopeo.copy("oci:\(layout.root.path):b", "\(repo):v2")

            try Skopeo.delete("\(repo)@\(first.manifest.digest)")
            #expect(try !Skopeo.tryInspectRaw("\(repo)@\(first.manifest.digest)").succeeded)
            #expect(try !Skopeo.tryInspectRaw("\(repo):v1").succeeded, "the tag went with its manifest")
            let gone = try HTTPProbe.request(
                url: "\(server.baseURL)/v2/interop/delete/manifests/\(first.manifest.digest)",
                headers: ["Accept": MediaTypes.imageManifest])
            #expect(gone.status == 404)
            let codes = ((try? gone.json())?["errors"] as? [[String: Any]])?.compactMap { $0["code"] as? String }
            #expect(codes == ["MANIFEST_UNKNOWN"])

            // The other image is untouched…
            #expect(try SHA256.digest(of: Skopeo.inspectRaw("\(repo):v2")) == second.manifest.digest)
            // …until it is deleted through its tag (skopeo resolves it to the digest).
            try Skopeo.delete("\(repo):v2")
            #expect(try !Skopeo.tryInspectRaw("\(repo):v2").succeeded)
            #expect(try !Skopeo.tryInspectRaw("\(repo)@\(second.manifest.digest)").succeeded)
        }
    }

    @Test("an image pushed before a graceful restart is pulled intact after it")
    func restartKeepsImages() throws {
        _ = try Skopeo.executable()
        let work = try TemporaryDirectory("restart")
        let layout = try OCILayout.create(at: work.path("src"))
        let image = try layout.addImage(seed: "restart", layerCount: 2, largeLayerBytes: 256 << 10)
        try layout.tag(image.manifest, as: "v1")
        let storage = work.path("storage")

        try withRegistry(storageRoot: storage) { server in
            try Skopeo.copy("oci:\(layout.root.path):v1", "docker://\(server.host)/interop/restart:v1")
            server.stop()
            #expect(!server.neededSIGKILL, "SIGTERM must end the server within 5 s")
            #expect(server.terminationStatus == 0, "graceful shutdown exits 0")
        }
        try withRegistry(storageRoot: storage) { server in
            let remote = "docker://\(server.host)/interop/restart:v1"
            #expect(try SHA256.digest(of: Skopeo.inspectRaw(remote)) == image.manifest.digest)
            let back = OCILayout(at: work.path("back"))
            try Skopeo.copy(remote, "oci:\(back.root.path):v1")
            for blob in [image.manifest, image.config] + image.layers {
                #expect(try back.hasBlob(blob.digest) && back.blob(blob.digest) == layout.blob(blob.digest),
                        "blob \(blob.digest) differs after restart")
            }
        }
    }

    @Test("with deletes disabled or storage read-only, skopeo's writes fail and its reads still work")
    func deleteDisabledAndReadOnly() throws {
        _ = try Skopeo.executable()
        let work = try TemporaryDirectory("modes")
        let layout = try OCILayout.create(at: work.path("src"))
        let image = try layout.addImage(seed: "modes", layerCount: 1)
        let other = try layout.addImage(seed: "modes-other", layerCount: 1)
        try layout.tag(image.manifest, as: "v1")
        try layout.tag(other.manifest, as: "v2")
        let storage = work.path("storage")

        try withRegistry(storageRoot: storage, environment: ["REGISTRY_STORAGE_DELETE_ENABLED": "false"]) { server in
            let remote = "docker://\(server.host)/interop/modes"
            try Skopeo.copy("oci:\(layout.root.path):v1", "\(remote):v1")
            #expect(throws: InteropError.self, "delete must be refused while storage.delete.enabled is false") {
                try Skopeo.delete("\(remote)@\(image.manifest.digest)")
            }
            let refused = try HTTPProbe.request(
                method: "DELETE", url: "\(server.baseURL)/v2/interop/modes/manifests/\(image.manifest.digest)")
            #expect(refused.status == 405)
            let codes = ((try? refused.json())?["errors"] as? [[String: Any]])?.compactMap { $0["code"] as? String }
            #expect(codes == ["UNSUPPORTED"])
            #expect(try SHA256.digest(of: Skopeo.inspectRaw("\(remote):v1")) == image.manifest.digest)
        }
        try withRegistry(storageRoot: storage, environment: ["REGISTRY_STORAGE_MAINTENANCE_READONLY_ENABLED": "true"]) {
            server in
            let remote = "docker://\(server.host)/interop/modes"
            #expect(throws: InteropError.self, "pushes must be refused in read-only mode") {
                try Skopeo.copy("oci:\(layout.root.path):v2", "\(remote):v2")
            }
            let back = OCILayout(at: work.path("back"))
            try Skopeo.copy("\(remote):v1", "oci:\(back.root.path):v1")
            #expect(try back.entry(forRef: "v1").digest == image.manifest.digest)
            #expect(try !Skopeo.tryInspectRaw("\(remote):v2").succeeded)
        }
    }

    /// The `manifests` of a referrers response (an OCI image index).
    static func referrerEntries(_ response: HTTPResponse) throws -> [[String: Any]] {
        let object = try response.json()
        guard let manifests = object["manifests"] as? [[String: Any]] else {
            throw InteropError("referrers response has no manifests array: \(String(decoding: response.body, as: UTF8.self))")
        }
        return manifests
    }
}
