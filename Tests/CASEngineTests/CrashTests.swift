// Crash suite, process kills: a child process (berth-crash-writer) writes
// blobs, chunked uploads, tagged manifests, tag and manifest deletes and is
// killed with SIGKILL at a seeded moment, 200 times over one storage root.
// After each kill the store is reopened in-process and compared with a model
// of every write the child acknowledged since the first run (StoreModel):
// blobs present and intact, manifests readable, deletes in effect, the exact
// set of tags, and refcounts exactly equal to what the acknowledged writes
// imply (plus the one in-flight write, if it took effect).
//
// Seeded: BERTH_TEST_SEED (printed) picks the child seeds and the kill
// delays; the delays themselves are wall-clock time, so a kill run replays
// its choices, not its exact interleavings (PowerLossTests replays exactly).
// A kill keeps the page cache: this suite cannot see a missing fsync; the
// power-loss suite can.

import BerthTestSupport
import Foundation
import Testing
@testable import CASEngine

@Suite(.serialized) struct CrashTests {
    @Test func twoHundredKillsLoseNoAcknowledgedWrite() throws {
        let seed = TestSeed.resolve("crash suite (kills)", default: 0xBE27_C2A5)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-crash-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let kills = Int(ProcessInfo.processInfo.environment["BERTH_CRASH_KILLS"] ?? "") ?? 200
        var rng = SplitMix64(seed: seed)
        var model = StoreModel()
        var acked = 0
        for iteration in 0..<kills {
            let childSeed = rng.next()
            var writer = try WriterProcess(root: root, seed: childSeed)
            // Most kills land while the writer is writing: wait until it has
            // opened the store, then 5-80 ms. One in ten lands at a random
            // moment of start-up and recovery instead.
            if iteration % 10 == 9 {
                usleep(UInt32.random(in: 1_000...40_000, using: &rng))
            } else {
                writer.waitUntilOpen()
                usleep(UInt32.random(in: 5_000...80_000, using: &rng))
            }
            // Only a live child: a reaped one's pid may already belong to
            // another process of the (parallel) suite.
            if writer.process.isRunning { kill(writer.process.processIdentifier, SIGKILL) }
            let (stdout, stderr) = writer.finish()
            let context = "seed \(seed), kill \(iteration), writer seed \(childSeed)"
            #expect(writer.process.terminationReason == .uncaughtSignal, "writer exited on its own (\(context)): \(stderr.suffix(300))")
            let run = try WriterOutput.parse(stdout)
            let problems = model.check(root: root, after: run)
            #expect(problems.count == 0, "\(context): \(problems.prefix(20).joined(separator: "\n"))")
            if !problems.isEmpty { return }
            acked += run.acked.count
        }
        // Final pass: every blob's bytes, not just the latest run's.
        let store = try Store.open(at: root)
        defer { store.close() }
        let problems = model.violations(in: store, reading: nil)
        #expect(problems.count == 0, "final check: \(problems.prefix(20).joined(separator: "\n"))")
        // The model must have been exercised in every kind of write: each is
        // written hundreds of times over 200 kills (ten times fewer kills
        // still write each kind).
        #expect(!model.links.isEmpty && !model.manifests.isEmpty && !model.deleted.isEmpty,
                "the writer acknowledged too little to mean anything (\(acked) writes)")
        print("crash suite (kills): \(kills) kills, \(acked) acknowledged writes, \(model.links.count) blobs, \(model.manifests.count) live and \(model.deleted.count) deleted manifests")
    }
}
