import Foundation
import Testing

/// `regctl import` from a storage root written by the real distribution
/// (Debian's docker-registry 2.8.2) through skopeo pushes, then pulls from
/// Berth with skopeo: every tag resolves to the digest distribution served.
@Suite("regctl import from distribution", .serialized, .timeLimit(.minutes(5)))
struct DistributionImportTests {
    /// What was pushed into distribution, and what it served back.
    struct Pushed {
        var tags: [(repository: String, tag: String, digest: String, all: Bool)] = []
        var untagged: (repository: String, digest: String)?
        var corruptBlobs: [String] = []
        var brokenManifest = ""
        var danglingBlob = ""
    }

    /// Pushes every case into a distribution root, corrupts one blob, stops distribution.
    static func populate(_ root: URL, work: TemporaryDirectory, damage: Bool = true) throws -> Pushed {
        let layout = try OCILayout.create(at: work.path("src"))
        let app = try layout.addImage(seed: "app", layerCount: 2, largeLayerBytes: (1 << 20) + 4096)
        let dock = try layout.addImage(seed: "dock", layerCount: 1)
        let amd64 = try layout.addImage(seed: "multi", layerCount: 1, architecture: "amd64")
        let arm64 = try layout.addImage(seed: "multi", layerCount: 1, architecture: "arm64")
        let index = try layout.addIndex([amd64.platformManifest, arm64.platformManifest])
        let loose = try layout.addImage(seed: "loose", layerCount: 1)
        // Two layers to corrupt: one stored whole (putBlob), one large
        // enough for the upload-session path.
        let broken = try layout.addImage(seed: "broken", layerCount: 2, largeLayerBytes: (1 << 20) + 4096)
        try layout.tag(app.manifest, as: "app")
        try layout.tag(dock.manifest, as: "dock")
        try layout.tag(index, as: "multi")
        try layout.tag(loose.manifest, as: "loose")
        try layout.tag(broken.manifest, as: "broken")

        var pushed = Pushed()
        let registry = try RegistryProcess.start(.dockerRegistry, storageRoot: root)
        defer { registry.stop() }
        let src = "oci:\(layout.root.path)"
        let host = registry.host
        for tag in ["v1", "latest", "stable"] {  // several tags on one manifest
            try Skopeo.copy("\(src):app", "docker://\(host)/library/app:\(tag)")
            pushed.tags.append(("library/app", tag, app.manifest.digest, false))
        }
        // Docker schema 2: skopeo converts, so the digest is what distribution serves.
        try Skopeo.copy("\(src):dock", "docker://\(host)/dock:v2s2", preserveDigests: false, format: "v2s2")
        let dockDigest = try SHA256.digest(of: Skopeo.inspectRaw("docker://\(host)/dock:v2s2"))
        #expect(dockDigest != dock.manifest.digest)
        pushed.tags.append(("dock", "v2s2", dockDigest, false))
        try Skopeo.copy("\(src):multi", "docker://\(host)/multi:v1", all: true)
        pushed.tags.append(("multi", "v1", index.digest, true))
        // Untagged: pushed by digest only.
        try Skopeo.copy("\(src):loose", "docker://\(host)/library/app@\(loose.manifest.digest)")
        pushed.untagged = ("library/app", loose.manifest.digest)
        // A tag that moved: its index/ remembers the manifest it left.
        try Skopeo.copy("\(src):loose", "docker://\(host)/library/app:moving")
        try Skopeo.copy("\(src):app", "docker://\(host)/library/app:moving")
        pushed.tags.append(("library/app", "moving", app.manifest.digest, false))
        try Skopeo.copy("\(src):broken", "docker://\(host)/broken:v1")
        pushed.corruptBlobs = broken.layers.map(\.digest)
        pushed.brokenManifest = broken.manifest.digest
        for t in pushed.tags {
            #expect(try SHA256.digest(of: Skopeo.inspectRaw("docker://\(host)/\(t.repository):\(t.tag)")) == t.digest)
        }
        registry.stop()
        guard damage else { return pushed }

        // Flip bytes in the middle of each layer's data file.
        for digest in pushed.corruptBlobs {
            let hex = digest.dropFirst("sha256:".count)
            let data = root.appendingPathComponent("docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data")
            var bytes = try Data(contentsOf: data)
            bytes[bytes.count / 2] ^= 0xff
            bytes[bytes.count / 2 + 1] ^= 0xff
            try bytes.write(to: data)
        }

        // A layer link naming a blob distribution does not have.
        pushed.danglingBlob = "sha256:" + String(repeating: "ab", count: 32)
        let link = root.appendingPathComponent(
            "docker/registry/v2/repositories/dock/_layers/sha256/\(pushed.danglingBlob.dropFirst(7))")
        try FileManager.default.createDirectory(at: link, withIntermediateDirectories: true)
        try Data(pushed.danglingBlob.utf8).write(to: link.appendingPathComponent("link"))
        return pushed
    }

    static func berthConfig(_ work: TemporaryDirectory, root: URL) throws -> URL {
        let url = work.path("berth.yml")
        try """
            version: 0.1
            storage:
              filesystem:
                rootdirectory: \(root.path)
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:5000

            """.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    struct Report: Decodable {
        struct Counts: Decodable { let imported: Int; let present: Int; let skipped: Int }
        struct Skip: Decodable { let kind: String; let repository: String; let name: String; let reason: String; let detail: String }
        let mode: String
        let repositories: Int
        let blobs: Counts
        let manifests: Counts
        let tags: Counts
        let tagHistoryNotImported: Int
        let skipped: [Skip]
    }

    static func runImport(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, report: Report) {
        let regctl = try RegistryProcess.regctlExecutable().path
        let result = try Command.run(regctl, ["import", "--json"] + arguments, environment: environment)
        guard let report = try? JSONDecoder().decode(Report.self, from: result.stdout) else {
            throw InteropError("regctl import exited \(result.status) without a report:\n\(result.stderr)\(result.stdoutText)")
        }
        return (result.status, report)
    }

    /// The skips a root from `populate` must produce, and nothing else.
    static func checkSkips(_ report: Report, _ pushed: Pushed) {
        let reasons = report.skipped.map { "\($0.kind) \($0.repository) \($0.name) \($0.reason)" }.sorted()
        #expect(reasons == (pushed.corruptBlobs.map { "blob broken \($0) digest-mismatch" } + [
            "blob dock \(pushed.danglingBlob) dangling-link",
            "manifest broken \(pushed.brokenManifest) missing-reference",
            "tag broken v1 manifest-skipped",
        ]).sorted(), "\(report.skipped)")
    }

    /// Every tag pulls from Berth with distribution's digest; the untagged
    /// manifest by digest; the broken image not at all.
    static func checkPulls(_ server: RegistryProcess, _ pushed: Pushed, work: TemporaryDirectory) throws {
        for t in pushed.tags {
            let remote = "docker://\(server.host)/\(t.repository):\(t.tag)"
            #expect(try SHA256.digest(of: Skopeo.inspectRaw(remote)) == t.digest, "\(remote)")
            let back = OCILayout(at: work.path("pull-\(UUID().uuidString)"))
            try Skopeo.copy(remote, "oci:\(back.root.path):x", all: t.all)
            #expect(try back.entry(forRef: "x").digest == t.digest)
        }
        if let u = pushed.untagged {
            let remote = "docker://\(server.host)/\(u.repository)@\(u.digest)"
            #expect(try SHA256.digest(of: Skopeo.inspectRaw(remote)) == u.digest)
            try Skopeo.copy(remote, "oci:\(work.path("untagged").path):x")
        }
        #expect(try !Skopeo.tryInspectRaw("docker://\(server.host)/broken:v1").succeeded)
        for digest in pushed.corruptBlobs {
            let blob = try HTTPProbe.request(method: "HEAD", url: "\(server.baseURL)/v2/broken/blobs/\(digest)")
            #expect(blob.status == 404, "a blob that failed verification must not be stored")
        }
    }

    @Test("offline import brings every tag, the untagged manifest and the index; skips the corrupt blob; a re-run finds all present")
    func offlineImport() throws {
        _ = try Skopeo.executable()
        let work = try TemporaryDirectory("import")
        let distribution = work.path("distribution")
        let pushed = try Self.populate(distribution, work: work)
        let berthRoot = work.path("berth")
        let config = try Self.berthConfig(work, root: berthRoot)

        let first = try Self.runImport([distribution.path, config.path])
        #expect(first.status == 1, "a skipped blob makes the exit status 1")
        #expect(first.report.mode == "store")
        #expect(first.report.repositories == 4)
        Self.checkSkips(first.report, pushed)
        // app: 4 tags; dock, multi: 1 each.
        #expect(first.report.tags.imported == 6)
        // app + loose, dock, index + 2 children.
        #expect(first.report.manifests.imported == 6)
        #expect(first.report.blobs.present == 0 && first.report.blobs.imported > 0)
        #expect(first.report.tagHistoryNotImported == 1, "library/app:moving named the untagged manifest before")

        let server = try RegistryProcess.start(.regctl, storageRoot: berthRoot)
        defer { server.stop() }
        try Self.checkPulls(server, pushed, work: work)
        server.stop()

        let again = try Self.runImport([distribution.path, config.path])
        #expect(again.status == 1, "the corrupt blob is still skipped on a re-run")
        Self.checkSkips(again.report, pushed)
        #expect(again.report.blobs.imported == 0 && again.report.manifests.imported == 0 && again.report.tags.imported == 0)
        #expect(again.report.blobs.present == first.report.blobs.imported)
        #expect(again.report.manifests.present == first.report.manifests.imported)
        #expect(again.report.tags.present == first.report.tags.imported)

        // The operator's text report names each skip and its reason.
        let text = try Command.run(try RegistryProcess.regctlExecutable().path, ["import", distribution.path, config.path])
        #expect(text.status == 1)
        #expect(text.stdoutText.contains("skipped blob broken \(pushed.corruptBlobs[1]): digest-mismatch: "), "\(text.stdoutText)")
        #expect(text.stdoutText.contains("tag history: 1 earlier tag targets not imported"), "\(text.stdoutText)")
        #expect(text.stdoutText.contains("tags: 0 imported, 6 already present, 1 skipped"), "\(text.stdoutText)")
    }

    @Test("a root with nothing wrong imports with exit status 0, and again with everything already present")
    func cleanRootExitsZero() throws {
        _ = try Skopeo.executable()
        let work = try TemporaryDirectory("import-clean")
        let distribution = work.path("distribution")
        let pushed = try Self.populate(distribution, work: work, damage: false)
        let config = try Self.berthConfig(work, root: work.path("berth"))

        let first = try Self.runImport([distribution.path, config.path])
        #expect(first.status == 0)
        #expect(first.report.skipped.isEmpty, "\(first.report.skipped)")
        // The broken image is intact here: one more tag and manifest.
        #expect(first.report.tags.imported == pushed.tags.count + 1 && first.report.manifests.imported == 7)
        let again = try Self.runImport([distribution.path, config.path])
        #expect(again.status == 0)
        #expect(again.report.skipped.isEmpty && again.report.blobs.imported == 0 && again.report.tags.imported == 0)
        #expect(again.report.blobs.present == first.report.blobs.imported)
    }

    @Test("an import killed after it stored some bytes completes when run again")
    func killedImportResumes() throws {
        _ = try Skopeo.executable()
        let work = try TemporaryDirectory("import-kill")
        let distribution = work.path("distribution")
        let pushed = try Self.populate(distribution, work: work)
        let berthRoot = work.path("berth")
        let config = try Self.berthConfig(work, root: berthRoot)

        // Dies (as SIGKILL would) once the first manifest's bytes are stored,
        // before its metadata commit: its blobs are in, nothing else is.
        let regctl = try RegistryProcess.regctlExecutable().path
        let killed = try Command.run(regctl, ["import", "--json", distribution.path, config.path],
                                     environment: ["BERTH_FAILPOINTS": "store.manifest.after-bytes=crash"])
        #expect(killed.status == 137, "the failpoint must end the first run: \(killed.stderr)")

        let resumed = try Self.runImport([distribution.path, config.path])
        #expect(resumed.status == 1)
        Self.checkSkips(resumed.report, pushed)
        #expect(resumed.report.blobs.present > 0, "the killed run had stored blobs")
        #expect(resumed.report.tags.imported == 6 && resumed.report.manifests.imported == 6)

        let server = try RegistryProcess.start(.regctl, storageRoot: berthRoot)
        defer { server.stop() }
        try Self.checkPulls(server, pushed, work: work)
    }

    @Test("with `regctl serve` running on the root, import goes over the registry API and a re-run finds all present")
    func importIntoRunningServer() throws {
        _ = try Skopeo.executable()
        let work = try TemporaryDirectory("import-http")
        let distribution = work.path("distribution")
        let pushed = try Self.populate(distribution, work: work)
        let berthRoot = work.path("berth")
        let config = try Self.berthConfig(work, root: berthRoot)

        let server = try RegistryProcess.start(.regctl, storageRoot: berthRoot, configFile: config)
        defer { server.stop() }
        // The server's real address reaches import through the configuration.
        let env = ["REGISTRY_HTTP_ADDR": server.host, "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY": berthRoot.path]
        let first = try Self.runImport([distribution.path, config.path], environment: env)
        #expect(first.status == 1)
        #expect(first.report.mode == "http", "the locked root must send import over HTTP")
        Self.checkSkips(first.report, pushed)
        #expect(first.report.tags.imported == 6 && first.report.manifests.imported == 6)
        try Self.checkPulls(server, pushed, work: work)

        let again = try Self.runImport([distribution.path, config.path], environment: env)
        #expect(again.status == 1)
        Self.checkSkips(again.report, pushed)
        #expect(again.report.blobs.imported == 0 && again.report.manifests.imported == 0 && again.report.tags.imported == 0)
        #expect(again.report.tags.present == 6 && again.report.manifests.present == 6)
    }
}
