// `regctl import --link` (issue 8 item 3): on a reflink-capable file system
// shared by distribution's root and Berth's storage root (a loop-mounted XFS
// image, Tests/Support/ReflinkMount.swift) large blobs are reflinked and
// reported so; elsewhere they are copied and the report says why per blob;
// with --url, --link is refused. The distribution root is written by hand in
// distribution's layout (registry/storage/paths.go); the real registry's
// layout is covered by InteropTests/DistributionImportTests.

import BerthTestSupport
import Foundation
import Testing
@testable import CASEngine

@Suite(.serialized) struct ImportLinkCommandTests {
    static let layerBytes = 2 << 20  // above the default 1 MiB small-blob threshold

    /// A distribution root and a Berth config under `base`.
    struct Roots {
        let base: String
        var distribution: String { base + "/distribution" }
        var storage: String { base + "/storage" }
        var config: String { base + "/config.yml" }
    }

    struct Image {
        let layer: [UInt8], config: [UInt8], manifest: [UInt8]
        var digests: [BlobDigest] { [layer, config].map { BlobDigest.compute($0, .sha256) } }
        var manifestDigest: BlobDigest { BlobDigest.compute(manifest, .sha256) }
    }

    static func image(seed: UInt64) -> Image {
        var rng = SplitMix64(seed: seed)
        let layer = (0..<(layerBytes + 12345)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let config = Array("{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":\(seed)}".utf8)
        func d(_ b: [UInt8]) -> String { BlobDigest.compute(b, .sha256).description }
        let manifest = Array("""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\
            "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(d(config))","size":\(config.count)},\
            "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"\(d(layer))","size":\(layer.count)}]}
            """.utf8)
        return Image(layer: layer, config: config, manifest: manifest)
    }

    /// Writes `image` into distribution's layout as repository `repo`, tagged `tags`.
    static func writeDistribution(_ image: Image, repo: String, tags: [String], at root: String) throws {
        let v2 = root + "/docker/registry/v2"
        func put(_ bytes: [UInt8], _ path: String) throws {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        func link(_ d: BlobDigest, _ path: String) throws { try put(Array(d.description.utf8), path) }
        for bytes in [image.layer, image.config, image.manifest] {
            let d = BlobDigest.compute(bytes, .sha256)
            try put(bytes, "\(v2)/blobs/sha256/\(d.hex.prefix(2))/\(d.hex)/data")
        }
        let r = "\(v2)/repositories/\(repo)"
        for d in image.digests { try link(d, "\(r)/_layers/sha256/\(d.hex)/link") }
        let m = image.manifestDigest
        try link(m, "\(r)/_manifests/revisions/sha256/\(m.hex)/link")
        for t in tags {
            try link(m, "\(r)/_manifests/tags/\(t)/current/link")
            try link(m, "\(r)/_manifests/tags/\(t)/index/sha256/\(m.hex)/link")
        }
    }

    static func prepare(_ roots: Roots, _ image: Image) throws {
        try writeDistribution(image, repo: "library/app", tags: ["v1", "latest"], at: roots.distribution)
        try """
            version: 0.1
            storage:
              filesystem:
                rootdirectory: \(roots.storage)
            """.write(toFile: roots.config, atomically: true, encoding: .utf8)
    }

    /// Every tag resolves to the manifest, and every blob reads back with its digest.
    static func expectPullsSame(_ roots: Roots, _ image: Image) throws {
        var options = StoreOptions()
        options.metadataMapSize = 256 << 20
        let store = try Store.open(at: roots.storage, options: options)
        defer { store.close() }
        for tag in ["v1", "latest"] {
            #expect(try store.resolve(repository: "library/app", tag: tag) == image.manifestDigest)
        }
        for d in image.digests {
            let reader = try store.openBlob(d, in: "library/app")
            #expect(BlobDigest.compute(try reader.read(offset: 0, length: Int(reader.size)), .sha256) == d)
            try store.verify(d)
        }
    }

    @Test(.enabled(if: ReflinkMount.enabled)) func linkOnXFSReflinksLargeBlobs() throws {
        let xfs = try ReflinkMount(); defer { xfs.remove() }
        let roots = Roots(base: xfs.path)
        let image = Self.image(seed: 11)
        try Self.prepare(roots, image)
        let r = try Regctl.run(["import", "--link", roots.distribution, roots.config])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("reflinked 1 blobs, \(image.layer.count) bytes not copied"), "\(r)")
        #expect(!r.stdout.contains("copied instead"), "\(r)")
        try Self.expectPullsSame(roots, image)
        do {
            var options = StoreOptions()
            options.metadataMapSize = 256 << 20
            let store = try Store.open(at: roots.storage, options: options)
            defer { store.close() }
            let location = try #require(try store.meta.blob(BlobDigest.compute(image.layer, .sha256))).location
            #expect(location.flags == [.dedicated, .aligned])
            #expect(try ReflinkMount.extentsShared(store.layout.packPath(location.packID), from: 4096),
                    "the layer's bytes are on disk once, shared with distribution's file")
        }

        // A re-run finds everything present and reflinks nothing again.
        let again = try Regctl.run(["import", "--link", "--json", roots.distribution, roots.config])
        #expect(again.status == 0, "\(again)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        #expect(json["reflinked"] as? Int == 0)
        #expect((json["blobs"] as? [String: Any])?["present"] as? Int == 2)
    }

    @Test(.enabled(if: ReflinkMount.enabled)) func corruptLargeBlobIsSkippedAndLeavesNothing() throws {
        let xfs = try ReflinkMount(); defer { xfs.remove() }
        let roots = Roots(base: xfs.path)
        let image = Self.image(seed: 14)
        try Self.prepare(roots, image)
        let layer = BlobDigest.compute(image.layer, .sha256)
        let data = "\(roots.distribution)/docker/registry/v2/blobs/sha256/\(layer.hex.prefix(2))/\(layer.hex)/data"
        let handle = try #require(FileHandle(forWritingAtPath: data))
        try handle.seek(toOffset: 100_000)
        try handle.write(contentsOf: Data([0x00, 0xFF, 0x00]))
        try handle.close()
        let r = try Regctl.run(["import", "--link", roots.distribution, roots.config])
        #expect(r.status == 1, "\(r)")
        #expect(r.lines.contains { $0.hasPrefix("skipped blob library/app \(layer): digest-mismatch") }, "\(r)")
        #expect(r.stdout.contains("reflinked 0 blobs"), "\(r)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: roots.storage + "/uploads").isEmpty)
        var options = StoreOptions()
        options.metadataMapSize = 256 << 20
        let store = try Store.open(at: roots.storage, options: options)
        defer { store.close() }
        #expect(try store.stat(layer) == nil)
        let packs = try store.packs.packIDs()
        #expect(try packs.allSatisfy { try store.packs.kind(of: $0) == .shared }, "no dedicated pack for the refused blob")
    }

    @Test func linkWithoutReflinkFileSystemReportsTheFallback() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("berth-importlink-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let roots = Roots(base: base)
        let image = Self.image(seed: 12)
        try Self.prepare(roots, image)
        let r = try Regctl.run(["import", "--link", roots.distribution, roots.config])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("reflinked 0 blobs, 0 bytes not copied; 1 copied instead"), "\(r)")
        let layer = BlobDigest.compute(image.layer, .sha256)
        #expect(r.lines.contains { $0.hasPrefix("copied instead of reflinked: blob library/app \(layer): ") }, "\(r)")
        try Self.expectPullsSame(roots, image)
    }

    @Test func linkOverHTTPIsRefused() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("berth-importlink-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let roots = Roots(base: base)
        try Self.prepare(roots, Self.image(seed: 13))
        let r = try Regctl.run(["import", "--link", "--url", "http://127.0.0.1:9", roots.distribution, roots.config])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--link needs the Berth server stopped"), "\(r)")

        // The server running (the root locked): refused too, nothing imported.
        let (server, _) = try Regctl.serve(roots.config)
        defer { _ = server.stop() }
        let running = try Regctl.run(["import", "--link", roots.distribution, roots.config])
        #expect(running.status != 0)
        #expect(running.stderr.contains("--link needs the Berth server stopped"), "\(running)")
        #expect(!running.stdout.contains("import (http)"), "\(running)")
    }
}
