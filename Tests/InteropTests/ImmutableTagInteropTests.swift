// `berth.tags.immutable` from config.yml through a real `regctl serve`, against
// skopeo pushes: a frozen tag keeps its first image, skopeo's push of another
// image to it fails with the rule in the error, the same image again succeeds,
// and an unfrozen tag moves.

import Foundation
import Testing

@Suite("Immutable tags against skopeo", .serialized, .timeLimit(.minutes(5)),
       .enabled(if: RegistryProcess.Kind.underTest == .regctl, "berth: is Berth's own block; distribution refuses it"))
struct ImmutableTagInteropTests {
    @Test("skopeo cannot move a frozen tag; the same image again and unfrozen tags work")
    func skopeoPushesRespectFrozenTags() throws {
        _ = try Skopeo.executable()
        let work = try TemporaryDirectory("immutable")
        let file = work.path("config.yml")
        try """
            version: 0.1
            storage:
              filesystem:
                rootdirectory: ./storage
            http:
              addr: 127.0.0.1:5000
            berth:
              tags:
                immutable:
                  - repository: "releases/**"
                    tags: ["v*"]

            """.write(to: file, atomically: true, encoding: .utf8)
        let layout = try OCILayout.create(at: work.path("src"))
        let first = try layout.addImage(seed: "first", layerCount: 1)
        let second = try layout.addImage(seed: "second", layerCount: 1)
        try layout.tag(first.manifest, as: "first")
        try layout.tag(second.manifest, as: "second")

        let server = try RegistryProcess.start(configFile: file)
        defer { server.stop() }
        let v1 = "docker://\(server.host)/releases/app:v1"
        try Skopeo.copy("oci:\(layout.root.path):first", v1)
        #expect(try SHA256.digest(of: Skopeo.inspectRaw(v1)) == first.manifest.digest)

        let moved = try Command.run(try Skopeo.executable(), [
            "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false", "oci:\(layout.root.path):second", v1,
        ])
        #expect(!moved.succeeded, "skopeo moved a frozen tag")
        #expect(moved.stderr.contains("immutable"), "skopeo shows the reason: \(moved.stderr)")
        #expect(try SHA256.digest(of: Skopeo.inspectRaw(v1)) == first.manifest.digest, "v1 still names the first image")

        try Skopeo.copy("oci:\(layout.root.path):first", v1)  // the same image again
        let latest = "docker://\(server.host)/releases/app:latest"
        try Skopeo.copy("oci:\(layout.root.path):first", latest)
        try Skopeo.copy("oci:\(layout.root.path):second", latest)
        #expect(try SHA256.digest(of: Skopeo.inspectRaw(latest)) == second.manifest.digest)
        #expect(server.serverErrorLines.isEmpty, "\(server.serverErrorLines)")
    }
}
