// The offline commands refuse a storage root that a `regctl serve` holds
// (its flock on <root>/lock): nonzero exit, a message that says why and what
// to do, and the store untouched. Once the server stops, they work.

import Foundation
import Testing
@testable import CASEngine

@Suite("regctl beside a running server", .serialized, .timeLimit(.minutes(2)))
struct RunningServerRefusalTests {
    /// Starts `regctl serve` on the fixture's root and waits for its "serving" log line.
    func serve(_ f: StoreFixture) throws -> Regctl.Child {
        let server = try Regctl.Child(["serve", f.config], environment: ["REGISTRY_HTTP_ADDR": "127.0.0.1:0"])
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if server.stderr.contains("serving") { return server }
            if !server.process.isRunning { break }
            usleep(50_000)
        }
        let r = server.stop()
        throw Regctl.NotFound(description: "regctl serve did not start\n\(r)")
    }

    @Test func offlineCommandsRefuseAServedRoot() throws {
        let f = try StoreFixture()
        let stray = try f.with { (s: Store) throws in try StoreFixture.blob(s, Array("unreferenced".utf8)) }
        let server = try serve(f)
        for command in [["garbage-collect", "--delete-untagged"], ["fsck", "--repair"], ["compact"], ["serve"]] {
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
}
