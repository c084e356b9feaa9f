// Layer 6 of STYLE.md: a real client against a real server and store.
// Skipped when skopeo is not installed.

import Foundation
import Testing
@testable import RegistryHTTP

private let skopeoPath = ["/usr/bin/skopeo", "/usr/local/bin/skopeo"].first { FileManager.default.isExecutableFile(atPath: $0) }

@Suite("Interop (skopeo)", .enabled(if: skopeoPath != nil))
struct InteropTests {
    /// Runs skopeo without blocking a cooperative thread; returns (status, stdout+stderr).
    func skopeo(_ args: [String]) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: skopeoPath!)
        process.arguments = ["--insecure-policy"] + args
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        return try await withCheckedThrowingContinuation { c in
            process.terminationHandler = { p in
                let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                c.resume(returning: (p.terminationStatus, out))
            }
            do { try process.run() } catch { c.resume(throwing: error) }
        }
    }

    /// Writes a one-layer OCI image layout tagged `v1`; returns the layer bytes.
    func makeLayout(at dir: String) throws -> [UInt8] {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/blobs/sha256", withIntermediateDirectories: true)
        func put(_ bytes: [UInt8]) throws -> String {
            let d = Fixtures.sha256(bytes)
            try Data(bytes).write(to: URL(fileURLWithPath: dir + "/blobs/sha256/" + d.dropFirst(7)))
            return d
        }
        var layer = [UInt8](repeating: 0, count: (5 << 19) + 3)  // 2.5 MiB: chunked upload, sendfile on pull
        var x: UInt32 = 2463534242
        for i in layer.indices { x ^= x << 13; x ^= x >> 17; x ^= x << 5; layer[i] = UInt8(truncatingIfNeeded: x) }
        let config = Array(#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.utf8)
        let l = try put(layer), c = try put(config)
        let manifest = Array("""
        {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(c)","size":\(config.count)},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"\(l)","size":\(layer.count)}]}
        """.utf8)
        let m = try put(manifest)
        try Data("{\"imageLayoutVersion\":\"1.0.0\"}".utf8).write(to: URL(fileURLWithPath: dir + "/oci-layout"))
        try Data("""
        {"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(m)","size":\(manifest.count),"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}
        """.utf8).write(to: URL(fileURLWithPath: dir + "/index.json"))
        return layer
    }

    @Test func skopeoCopyInspectListDelete() async throws {
        let tmp = NSTemporaryDirectory() + "berth-interop-\(UUID().uuidString)"
        defer { if ProcessInfo.processInfo.environment["BERTH_KEEP"] == nil { try? FileManager.default.removeItem(atPath: tmp) } }
        let layer = try makeLayout(at: tmp + "/src")
        try await TestRegistry.with({ $0.relativeURLs = false }) { r in
            let ref = "docker://127.0.0.1:\(r.port)/interop/app"
            let push = try await skopeo(["copy", "--preserve-digests", "--dest-tls-verify=false", "oci:\(tmp)/src:v1", "\(ref):v1"])
            #expect(push.0 == 0, "\(push.1)")
            let copy = try await skopeo(["copy", "--src-tls-verify=false", "--dest-tls-verify=false", "\(ref):v1", "\(ref):v2"])
            #expect(copy.0 == 0, "\(copy.1)")
            let tags = try await skopeo(["list-tags", "--tls-verify=false", ref])
            #expect(tags.0 == 0, "\(tags.1)")
            #expect(tags.1.contains("\"v1\"") && tags.1.contains("\"v2\""), "\(tags.1)")
            let inspect = try await skopeo(["inspect", "--tls-verify=false", "--raw", "\(ref):v1"])
            #expect(inspect.0 == 0 && inspect.1.contains("application/vnd.oci.image.manifest.v1+json"), "\(inspect.1)")
            let pull = try await skopeo(["copy", "--src-tls-verify=false", "\(ref):v2", "oci:\(tmp)/dst:v2"])
            #expect(pull.0 == 0, "\(pull.1)")
            // skopeo verified every digest while pulling (it recompresses for the
            // oci: destination, so the files differ); check what the registry serves.
            let manifest = try await r.send(.GET, "/v2/interop/app/manifests/v2")
            let layers = try #require(manifest.json["layers"] as? [[String: Any]])
            let layerDigest = try #require(layers.first?["digest"] as? String)
            let served = try await r.send(.GET, "/v2/interop/app/blobs/\(layerDigest)")
            #expect(layerDigest == Fixtures.sha256(layer))  // --preserve-digests on push
            #expect(served.body == layer)
            let del = try await skopeo(["delete", "--tls-verify=false", "\(ref):v2"])
            #expect(del.0 == 0, "\(del.1)")
        }
    }
}
