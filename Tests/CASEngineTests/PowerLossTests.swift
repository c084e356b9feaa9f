// Crash suite, power loss: the crash writer runs with the fault-injecting
// layer under PosixIO (FaultInjectingIO, debug builds), which remembers every
// write, truncate and directory change not yet made durable by an fsync and,
// at a seeded operation, throws all of it away (or, in a torn cut, keeps a
// random prefix of each file's unsynced writes) and ends the process: a
// simulated power cut. 200 cuts over one storage root; after each the store
// is reopened and compared exactly with the model of every acknowledged write
// (StoreModel, as in CrashTests). LMDB commits are taken as durable (its own
// fsyncs; RECOVERY.md "Power-loss tests").
//
// The writer is single-threaded and everything it does follows from its
// seed, so a failure replays exactly: BERTH_TEST_SEED (printed) and the cut
// index in the message. BERTH_POWER_CUTS raises the count for a soak.
//
// The second test proves the suite can fail: it removes one sync of the
// write path (`SyncSite`) and expects the same loop to report lost
// acknowledged writes.

import BerthTestSupport
import Foundation
import Testing
@testable import CASEngine

@Suite(.serialized) struct PowerLossTests {
    struct CutStats {
        var cuts = 0
        var torn = 0
        var droppedBytes: UInt64 = 0
        var revertedEntries = 0
        var acked = 0
    }

    struct Outcome {
        var problems: [String] = []
        var stats = CutStats()
        var model = StoreModel()
        var writerFailed = false
    }

    static let defaultSeed: UInt64 = 0xBE27_90C5

    /// The operation a run cuts power at: the first run (which creates the
    /// root) and most others cut while writing; one in ten during open and
    /// recovery of the previous cut.
    static func cutPoint(_ iteration: Int, _ rng: inout SplitMix64) -> Int {
        if iteration == 0 { return Int.random(in: 40...100, using: &rng) }
        if iteration % 10 == 9 { return Int.random(in: 1...12, using: &rng) }
        return Int.random(in: 1...100, using: &rng)
    }

    /// The writer's `POWER-CUT key=value ...` line.
    static func summary(_ stderr: String) -> [String: Int]? {
        guard let line = stderr.split(separator: "\n").first(where: { $0.hasPrefix("POWER-CUT ") }) else { return nil }
        var out: [String: Int] = [:]
        for field in line.split(separator: " ").dropFirst() {
            let kv = field.split(separator: "=")
            if kv.count == 2, let v = Int(kv[1]) { out[String(kv[0])] = v }
        }
        return out
    }

    static func run(cuts: Int, seed: UInt64, skipSync: SyncSite?, stopAtFirstProblem: Bool) throws -> Outcome {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-powerloss-\(UUID().uuidString)").path
        let stash = root + ".stash"
        defer {
            try? FileManager.default.removeItem(atPath: root)
            try? FileManager.default.removeItem(atPath: stash)
        }
        var rng = SplitMix64(seed: seed)
        var outcome = Outcome()
        for iteration in 0..<cuts {
            let childSeed = rng.next()
            let at = cutPoint(iteration, &rng)
            var arguments = ["power-cut=\(at)", "stash=\(stash)"]
            if let skipSync { arguments.append("skip-sync=\(skipSync.rawValue)") }
            var writer = try WriterProcess(root: root, seed: childSeed, arguments: arguments)
            let (stdout, stderr) = writer.finish()
            let context = "seed \(seed), cut \(iteration) at operation \(at), writer seed \(childSeed)"
            guard writer.process.terminationReason == .exit,
                  writer.process.terminationStatus == FaultInjectingIO.powerCutExitCode,
                  let cut = summary(stderr)
            else {
                // Not a finding about the store: the harness itself broke.
                Issue.record("\(context): writer did not cut power (status \(writer.process.terminationStatus)): \(stderr.suffix(300))")
                outcome.writerFailed = true
                return outcome
            }
            let run = try WriterOutput.parse(stdout)
            if ProcessInfo.processInfo.environment["BERTH_POWER_VERBOSE"] != nil {
                print("cut \(iteration): \(run.acked.count) acknowledged, \(stderr.split(separator: "\n").last ?? "")")
            }
            outcome.stats.cuts += 1
            outcome.stats.torn += cut["torn"] ?? 0
            outcome.stats.droppedBytes += UInt64(cut["dropped-bytes"] ?? 0)
            outcome.stats.revertedEntries += cut["entries"] ?? 0
            outcome.stats.acked += run.acked.count
            let problems = outcome.model.check(root: root, after: run)
            if !problems.isEmpty {
                outcome.problems += problems.map { "\(context): \($0)" }
                if stopAtFirstProblem { return outcome }
            }
        }
        if skipSync == nil && !outcome.writerFailed {
            // Final pass: every blob's bytes, not only the latest run's.
            let store = try Store.open(at: root)
            defer { store.close() }
            outcome.problems += outcome.model.violations(in: store, reading: nil).map { "final check: \($0)" }
        }
        return outcome
    }

    @Test func twoHundredPowerCutsLoseNoAcknowledgedWrite() throws {
        try #require(FaultInjectingIO.isCompiledIn, "the power-loss suite needs a debug build")
        let seed = TestSeed.resolve("crash suite (power cuts)", default: Self.defaultSeed)
        let cuts = Int(ProcessInfo.processInfo.environment["BERTH_POWER_CUTS"] ?? "") ?? 200
        let outcome = try Self.run(cuts: cuts, seed: seed, skipSync: nil, stopAtFirstProblem: false)
        #expect(outcome.problems.count == 0, "problems:\n\(outcome.problems.prefix(20).joined(separator: "\n"))")
        let s = outcome.stats
        #expect(s.cuts == cuts)
        // The simulation must have had something to throw away: unsynced
        // bytes, directory entries and torn cuts, and the writer must have
        // written every kind of write.
        #expect(s.droppedBytes > 0 && s.revertedEntries > 0 && s.torn > 0, "cuts dropped nothing: \(s)")
        #expect(!outcome.model.links.isEmpty && !outcome.model.manifests.isEmpty && !outcome.model.deleted.isEmpty,
                "the writer acknowledged too little to mean anything: \(s)")
        print("crash suite (power cuts): \(s.cuts) cuts (\(s.torn) torn), \(s.acked) acknowledged writes, \(outcome.model.links.count) blobs, \(outcome.model.manifests.count) live and \(outcome.model.deleted.count) deleted manifests; dropped \(s.droppedBytes) unsynced bytes and \(s.revertedEntries) directory changes")
    }

    /// Without one of the write path's syncs, acknowledged writes do get lost
    /// at a power cut, and the suite above must say so.
    @Test(arguments: SyncSite.allCases)
    func aRemovedSyncLosesAcknowledgedWrites(_ site: SyncSite) throws {
        try #require(FaultInjectingIO.isCompiledIn, "the power-loss suite needs a debug build")
        let seed = TestSeed.resolve("crash suite (power cuts, \(site.rawValue) removed)", default: Self.defaultSeed)
        let outcome = try Self.run(cuts: 60, seed: seed, skipSync: site, stopAtFirstProblem: true)
        #expect(!outcome.problems.isEmpty,
                "\(outcome.stats.cuts) power cuts without the \(site.rawValue) sync lost nothing acknowledged: the suite cannot see a missing sync")
        print("crash suite (power cuts, \(site.rawValue) removed): caught after \(outcome.stats.cuts) cuts: \(outcome.problems.first ?? "-")")
    }
}
