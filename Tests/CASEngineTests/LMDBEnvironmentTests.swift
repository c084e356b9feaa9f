import Foundation
import Testing
@testable import CASEngine

@Suite struct LMDBEnvironmentTests {
    /// A read transaction opened before a write commits keeps its snapshot, and
    /// readers are not blocked while a long write transaction is open.
    @Test func readersDuringLongWrite() throws {
        let t = try TempMeta()
        let store = t.store
        try store.commit([1], into: nil)

        // 1. A writer holds its transaction open; readers on this thread go on.
        let writerInside = DispatchSemaphore(value: 0)
        let releaseWriter = DispatchSemaphore(value: 0)
        let writerDone = DispatchSemaphore(value: 0)
        let writerError = LockedBox<String?>(nil)
        Thread {
            do {
                try store.env.write { txn in
                    try store.putBlob(txn, dg(2), BlobRecord(location: loc(2), refcount: 0, zeroedAt: 1, createdAt: 1))
                    writerInside.signal()
                    _ = releaseWriter.wait(timeout: .now() + 30)
                }
            } catch { writerError.set("\(error)") }
            writerDone.signal()
        }.start()
        #expect(writerInside.wait(timeout: .now() + 30) == .success)
        #expect(try store.blob(dg(1)) != nil)
        #expect(try store.blob(dg(2)) == nil)          // uncommitted: invisible, and no blocking
        #expect(try store.repositories(after: nil, limit: nil) == [])

        // 2. A reader opens its snapshot on another thread before the commit.
        let readerOpened = DispatchSemaphore(value: 0)
        let committed = DispatchSemaphore(value: 0)
        let readerDone = DispatchSemaphore(value: 0)
        let seen = LockedBox<[Bool]>([])
        Thread {
            do {
                try store.env.read { txn in
                    let before = try store.getBlob(txn, dg(2)) != nil
                    readerOpened.signal()
                    _ = committed.wait(timeout: .now() + 30)
                    let after = try store.getBlob(txn, dg(2)) != nil
                    seen.set([before, after])
                }
            } catch { seen.set([true, true]) }
            readerDone.signal()
        }.start()
        #expect(readerOpened.wait(timeout: .now() + 30) == .success)
        releaseWriter.signal()
        #expect(writerDone.wait(timeout: .now() + 30) == .success)
        #expect(writerError.get() == nil)
        #expect(try store.blob(dg(2)) != nil)         // new transactions see the commit
        committed.signal()
        #expect(readerDone.wait(timeout: .now() + 30) == .success)
        #expect(seen.get() == [false, false])          // old snapshot kept
    }

    @Test func concurrentReadersAndWritersFromManyThreads() async throws {
        let t = try TempMeta()
        let store = t.store
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<4 {
                group.addTask {
                    for i in 0..<50 { try store.commit([w * 100 + i], into: "r\(w)", now: UInt64(i)) }
                }
                group.addTask {
                    for _ in 0..<200 { _ = try store.repositories(after: nil, limit: nil); _ = try store.blob(dg(w * 100)) }
                }
            }
            try await group.waitForAll()
        }
        var n = 0
        try store.forEachBlob { _, _ in n += 1; return true }
        #expect(n == 200)
        #expect(try store.repositories(after: nil, limit: nil) == ["r0", "r1", "r2", "r3"])
    }

    @Test func mapFullIsLimitExceededAndRollsBack() throws {
        let t = try TempMeta(mapSize: 256 << 10)
        let batch = (0..<20_000).map { (digest: dg($0), location: loc(UInt32($0)), linkTo: Optional("repo/with/a/long/name")) }
        #expect(throws: StoreError(.limitExceeded, "")) { try t.store.commitBlobs(batch, now: 1) }
        #expect(try t.store.blob(dg(0)) == nil)
        try t.store.commit([1], into: "r")      // still usable afterwards
        #expect(try t.store.blob(dg(1)) != nil)
    }

    @Test func unknownSchemaVersionIsUnsupportedFormat() throws {
        let t = try TempMeta()
        try t.store.env.write { txn in
            var w = ByteWriter()
            w.u32(99)
            try txn.put(t.store.db.meta, MetaKey.schemaVersion, w.bytes)
        }
        t.store.close()
        #expect(throws: StoreError(.unsupportedFormat, "")) {
            _ = try MetaStore(directory: t.dir, mapSize: 64 << 20, readOnly: false)
        }
    }

    @Test func readOnlyOpenOfMissingDirectoryFails() throws {
        #expect(throws: StoreError.self) {
            _ = try MetaStore(directory: "/nonexistent-berth-\(UInt64.random(in: 0...UInt64.max))", mapSize: 1 << 20, readOnly: true)
        }
    }

    @Test func notAnLMDBFileIsUnsupportedFormat() throws {
        let dir = NSTemporaryDirectory() + "berth-meta-bad-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(repeating: 0x5a, count: 64 << 10).write(to: URL(fileURLWithPath: dir + "/data.mdb"))
        #expect(throws: StoreError(.unsupportedFormat, "")) {
            _ = try MetaStore(directory: dir, mapSize: 1 << 20, readOnly: false)
        }
    }

    @Test func schemaVersionIsStored() throws {
        let t = try TempMeta()
        let v = try t.store.env.read { txn in try txn.get(t.store.db.meta, MetaKey.schemaVersion) }
        #expect(v == [3, 0, 0, 0])
    }
}
