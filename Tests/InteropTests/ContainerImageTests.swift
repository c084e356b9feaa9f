import BerthTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `make image` as the seed uses `registry:3`: build Berth's image with buildah
/// (scripts/build-image.sh, here from the test build's binary), re-upload it into
/// a running Berth with skopeo, pull it back into an OCI layout, unpack its root
/// file system and run the image's own entry point and command from it (chroot
/// in a private mount namespace, /proc mounted, a host directory bound on the
/// volume, `REGISTRY_HTTP_ADDR` as compose's environment would set it), then push
/// and pull through that server and run the seed's garbage-collect command.
///
/// Needs root (chroot and mounts), as building and running containers does.
@Suite("Container image (registry:3 layout)", .serialized, .timeLimit(.minutes(5)))
struct ContainerImageTests {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("the image builds without a base, survives a registry round trip, and serves from its own root")
    func imageServesFromItsRootFileSystem() throws {
        _ = try Command.require("buildah", package: "buildah")
        _ = try Command.require("unshare", package: "util-linux")
        try #require(getuid() == 0, "the container image test needs root (chroot, mount)")
        let work = try TemporaryDirectory("image")
        let archive = work.path("berth-image.tar")
        try Command.check("bash", [
            Self.packageRoot.appendingPathComponent("scripts/build-image.sh").path,
            "--binary", try RegistryProcess.regctlExecutable().path,
            "--tag", "localhost/berth:test", "--output", "oci-archive:\(archive.path)",
        ], environment: ["BUILDAH_ROOT": work.path("buildah").path])

        // The seed's "re-upload the registry image" step, then back out.
        let layout = OCILayout(at: work.path("pulled"))
        try withRegistry { server in
            let remote = "docker://\(server.host)/registry:3"
            try Skopeo.copy("oci-archive:\(archive.path)", remote)
            try Skopeo.copy(remote, "oci:\(layout.root.path):registry")
        }
        let manifest = try JSONSerialization.jsonObject(
            with: layout.blob(layout.entry(forRef: "registry").digest)) as? [String: Any] ?? [:]
        let configDigest = try #require((manifest["config"] as? [String: Any])?["digest"] as? String)
        let imageConfig = try JSONSerialization.jsonObject(with: layout.blob(configDigest)) as? [String: Any] ?? [:]
        let config = try #require(imageConfig["config"] as? [String: Any])
        let entrypoint = try #require(config["Entrypoint"] as? [String])
        let cmd = try #require(config["Cmd"] as? [String])
        #expect(entrypoint == ["/bin/registry"])
        #expect(cmd == ["serve", "/etc/distribution/config.yml"])
        #expect((config["ExposedPorts"] as? [String: Any])?.keys.sorted() == ["5000/tcp"])
        #expect((config["Volumes"] as? [String: Any])?.keys.sorted() == ["/var/lib/registry"])
        #expect(imageConfig["architecture"] as? String == "amd64")

        let rootfs = work.path("rootfs")
        try FileManager.default.createDirectory(at: rootfs, withIntermediateDirectories: true)
        let layers = try #require(manifest["layers"] as? [[String: Any]])
        #expect(layers.count == 1)
        for layer in layers {
            let digest = try #require(layer["digest"] as? String)
            try Command.check("tar", ["-xf", layout.blobURL(digest).path, "-C", rootfs.path])
        }
        let fm = FileManager.default
        #expect(fm.isExecutableFile(atPath: rootfs.appendingPathComponent("bin/registry").path))
        #expect(try String(contentsOf: rootfs.appendingPathComponent("etc/distribution/config.yml"), encoding: .utf8)
            .contains("rootdirectory: /var/lib/registry"))
        #expect(try fm.destinationOfSymbolicLink(atPath: rootfs.appendingPathComponent("etc/docker/registry/config.yml").path)
            == "/etc/distribution/config.yml")
        #expect(!fm.fileExists(atPath: rootfs.appendingPathComponent("bin/sh").path), "the image has no shell")

        // `-v /path/data:/var/lib/registry`, `-p` as REGISTRY_HTTP_ADDR.
        let data = work.path("data")
        try fm.createDirectory(at: data, withIntermediateDirectories: true)
        let container = Container(rootfs: rootfs, volume: data)
        let port = try Loopback.freePort()
        let server = try container.start(entrypoint + cmd, environment: ["REGISTRY_HTTP_ADDR": "127.0.0.1:\(port)"],
                                         log: work.path("container.log"), readyAt: "http://127.0.0.1:\(port)/v2/")
        let source = try OCILayout.create(at: work.path("app"))
        let image = try source.addImage(seed: "container", layerCount: 2, largeLayerBytes: 1 << 20)
        try source.tag(image.manifest, as: "v1")
        let remote = "docker://127.0.0.1:\(port)/team/app:v1"
        do {
            try Skopeo.copy("oci:\(source.root.path):v1", remote)
            #expect(try SHA256.digest(of: Skopeo.inspectRaw(remote)) == image.manifest.digest)
            let back = OCILayout(at: work.path("back"))
            try Skopeo.copy(remote, "oci:\(back.root.path):v1")
            for blob in [image.config] + image.layers {
                #expect(try back.blob(blob.digest) == source.blob(blob.digest), "blob \(blob.digest) differs")
            }
        } catch {
            server.terminate()
            server.waitUntilExit()
            throw InteropError("\(error)\n--- container log ---\n\(container.log(work.path("container.log")))")
        }
        server.terminate()
        server.waitUntilExit()
        #expect(server.terminationStatus == 0, "\(container.log(work.path("container.log")))")
        #expect(try !fm.contentsOfDirectory(atPath: data.path).isEmpty, "the store must be on the volume")

        // The seed's maintenance command, verbatim but for `docker exec`.
        let gc = try container.run(
            ["bin/registry", "garbage-collect", "--delete-untagged=true", "/etc/docker/registry/config.yml"],
            log: work.path("gc.log"))
        #expect(gc == 0, "\(container.log(work.path("gc.log")))")
        #expect(container.log(work.path("gc.log")).contains("4 blobs marked, 0 blobs and 0 manifests eligible for deletion"),
                "the image's manifest, config and two layers are marked; nothing is untagged")
    }
}

/// A root file system run the way a container runtime would, minus the
/// isolation a test does not need: a private mount namespace with /proc and the
/// volume mounted, chroot, the image's working directory `/`.
private struct Container {
    let rootfs: URL
    let volume: URL

    private func process(_ command: [String], environment: [String: String], log: URL) throws -> Process {
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        for dir in ["proc", "var/lib/registry"] {
            try FileManager.default.createDirectory(
                at: rootfs.appendingPathComponent(dir), withIntermediateDirectories: true)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Command.require("unshare", package: "util-linux"))
        // `unshare` without --fork execs its command, so the process we hold is,
        // after the execs, the registry itself: signals reach it directly.
        process.arguments = ["--mount", "--", "/bin/sh", "-c",
            #"mount -t proc proc "$1/proc" && mount --bind "$2" "$1/var/lib/registry" && cd "$1" && shift 2 && exec chroot . "$@""#,
            "container", rootfs.path, volume.path] + command
        // The host's PATH finds mount and chroot; the command itself is a path.
        let hostPath = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        process.environment = ["PATH": hostPath].merging(environment) { $1 }
        process.currentDirectoryURL = rootfs
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? handle.close()
        return process
    }

    func start(_ command: [String], environment: [String: String], log: URL, readyAt url: String) throws -> Process {
        let process = try process(command, environment: environment, log: log)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            guard process.isRunning else {
                throw InteropError("the container exited \(process.terminationStatus):\n\(self.log(log))")
            }
            if let response = try? HTTPProbe.request(url: url, timeout: 2), response.status == 200 { return process }
            usleep(100_000)
        }
        process.terminate()
        process.waitUntilExit()
        throw InteropError("the container did not answer on \(url):\n\(self.log(log))")
    }

    func run(_ command: [String], log: URL) throws -> Int32 {
        let process = try process(command, environment: [:], log: log)
        process.waitUntilExit()
        return process.terminationStatus
    }

    func log(_ url: URL) -> String {
        String(decoding: (try? Data(contentsOf: url)) ?? Data(), as: UTF8.self)
    }
}
