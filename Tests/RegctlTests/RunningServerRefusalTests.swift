// The offline commands refuse a storage root that a `regctl serve` holds
// (its flock on <root>/lock): nonzero exit, a message that says why and what
// to do, and the store untouched. Once the server stops, they work.
// `garbage-collect` is the exception: it hands its pass to the running
// server (ControlSocket.swift), which runs it with its own grace period and
// untagged delay.

import Foundation
import Testing
@testable import CASEngine

@Suite("regctl beside a running server", .serialized, .timeLimit(.minutes(5)))
struct RunningServerRefusalTests {
    /// Starts `regctl serve` on the fixture's root and waits for its "serving" log line.
    func serve(_ f: StoreFixture, environment: [String: String] = [:]) throws -> Regctl.Child {
        try Regctl.serve(f.config, environment: environment).server
    }

    @Test func offlineCommandsRefuseAServedRoot() throws {
        let f = try StoreFixture()
        let stray = try f.with { (s: Store) throws in try StoreFixture.blob(s, Array("unreferenced".utf8)) }
        let server = try serve(f)
        for command in [["fsck", "--repair"], ["compact"], ["serve"]] {
            let r = try Regctl.run(command + [f.config], environment: ["REGISTRY_HTTP_ADDR": "127.0.0.1:0"])
            #expect(r.status == 1, "\(command): \(r)")
            #expect(r.stderr.contains("storage at \(f.root) is in use by a running registry; stop it first"), "\(command): \(r)")
            #expect(!r.stdout.contains("eligible for deletion"), "\(command) did work before refusing: \(r)")
        }
        #expect(server.process.isRunning, "the server survives the attempts")
        let stopped = server.stop()
        #expect(stopped.status == 0, "graceful stop\n\(stopped)")

        let gc = try Regctl.run(["garbage-collect", f.config])
        #expect(gc.status == 0 && gc.lines.contains("blob eligible for deletion: \(stray)"), "\(gc)")
    }

    /// The seed's `docker exec registry garbage-collect --delete-untagged`
    /// on a running registry: the pass runs inside the server, and with
    /// the server's timing (0 here) it takes the re-pointed image.
    @Test func garbageCollectIsHandedToTheRunningServer() throws {
        let f = try StoreFixture()
        let (old, new) = try f.with { (s: Store) throws -> (BlobDigest, BlobDigest) in
            let l1 = try StoreFixture.blob(s, Array("layer-1".utf8))
            let old = try StoreFixture.manifest(s, "v1", refs: [l1], tags: ["latest"])
            return (old, try StoreFixture.manifest(s, "v2", refs: [try StoreFixture.blob(s, Array("layer-2".utf8))], tags: ["latest"]))
        }
        let server = try serve(f, environment: ["REGISTRY_BERTH_GC_GRACEPERIOD": "0s", "REGISTRY_BERTH_GC_UNTAGGEDDELAY": "0s",
                                                "REGISTRY_BERTH_GC_INTERVAL": "24h"])
        let dry = try Regctl.run(["garbage-collect", "--dry-run", "--delete-untagged", f.config])
        #expect(dry.status == 0, "\(dry)")
        #expect(dry.lines.contains("manifest eligible for deletion: {app \(old) [latest]}"), "\(dry)")
        #expect(dry.lines.contains("2 blobs marked, 2 blobs and 1 manifests eligible for deletion"), "\(dry)")
        let real = try Regctl.run(["garbage-collect", "--delete-untagged", f.config])
        #expect(real.status == 0 && real.lines == dry.lines, "\(real)")
        #expect(server.process.isRunning, "the server ran it and serves on")
        let log = server.stop().stderr
        #expect(log.contains("garbage-collect handed over by regctl"), "\(log)")
        try f.with { (s: Store) throws in
            #expect(try s.manifest(repository: "app", digest: old) == nil)
            #expect(try s.manifest(repository: "app", tag: "latest")?.digest == new)
            // (Not scanPacks: the deleted records stay in the active pack as dead bytes until compaction.)
            let report = try s.fsck(verifyContent: true, scanPacks: false, repair: false)
            #expect(report.isClean, "\(report)")
        }
    }

    /// With the server's default timing (24 h grace, 1 h untagged delay) the
    /// same handed-over pass takes nothing a client may still build on: the
    /// image untagged a moment ago and its layer stay. An offline pass
    /// (grace 0) would take them — the server must not.
    @Test func aHandedOverPassKeepsTheServersGraceAndDelay() throws {
        let f = try StoreFixture()
        let old = try f.with { (s: Store) throws -> BlobDigest in
            let old = try StoreFixture.manifest(s, "v1", refs: [try StoreFixture.blob(s, Array("layer-1".utf8))], tags: ["latest"])
            _ = try StoreFixture.manifest(s, "v2", refs: [], tags: ["latest"])
            _ = try StoreFixture.blob(s, Array("uploaded a moment ago".utf8))
            return old
        }
        let server = try serve(f)
        let r = try Regctl.run(["garbage-collect", "--delete-untagged", f.config])
        #expect(r.status == 0, "\(r)")
        #expect(r.lines.contains("0 blobs and 0 manifests eligible for deletion") == false, "\(r)")
        #expect(r.lines.contains { $0.hasSuffix("blobs marked, 0 blobs and 0 manifests eligible for deletion") }, "\(r)")
        _ = server.stop()
        try f.with { (s: Store) throws in #expect(try s.manifest(repository: "app", digest: old) != nil) }
    }
}
