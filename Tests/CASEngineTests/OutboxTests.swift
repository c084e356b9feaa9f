// The notification outbox in the engine: notes stored in the transaction of
// the change (and not when the change fails), order, per-endpoint cursors,
// pruning by the slowest kept endpoint, and persistence across a reopen.

import Foundation
import Testing
@testable import CASEngine

@Suite struct OutboxTests {
    static func bytes(_ name: String) -> [UInt8] { Array("{\"schemaVersion\":2,\"name\":\"\(name)\"}".utf8) }

    @Test func notesAreStoredWithTheirChangeAndNeverWithoutIt() throws {
        try GCTests().withStore { f in
            let a = Self.bytes("a")
            try f.store.putManifest(repository: "app", digest: sha256(a), bytes: a,
                                    edges: ManifestEdges(mediaType: GCTests.image, references: []), tags: ["v1"],
                                    notes: [Array("push-a".utf8)])
            // A reference the repository lacks: the PUT fails, its note is not stored.
            let b = Self.bytes("b")
            #expect(throws: StoreError.self) {
                try f.store.putManifest(repository: "app", digest: sha256(b), bytes: b,
                                        edges: ManifestEdges(mediaType: GCTests.image, references: [sha256(Array("missing".utf8))]),
                                        tags: ["v2"], notes: [Array("push-b".utf8)])
            }
            // An unknown tag: the delete fails, its note is not stored.
            #expect(throws: StoreError.self) {
                try f.store.deleteTag(repository: "app", tag: "nope", notes: [Array("delete-nope".utf8)])
            }
            try f.store.deleteTag(repository: "app", tag: "v1", notes: [Array("delete-v1".utf8)])
            try f.store.deleteManifest(repository: "app", digest: sha256(a), notes: [Array("delete-a".utf8)])
            let entries = try f.store.outboxEntries(after: 0, limit: 10)
            #expect(entries.map { String(decoding: $0.payload, as: UTF8.self) } == ["push-a", "delete-v1", "delete-a"])
            #expect(entries.map(\.sequence) == entries.map(\.sequence).sorted())
        }
    }

    @Test func entriesStayUntilEveryKeptEndpointHasThem() throws {
        let root = TempRoot(); defer { root.cleanup() }
        var store = try Store.open(at: root.path, options: smallOptions())
        // Cursors created before anything is written start at the end (0 here).
        #expect(try store.outboxCursor("fast") == 0)
        #expect(try store.outboxCursor("slow") == 0)
        try store.appendOutbox([Array("one".utf8), Array("two".utf8), Array("three".utf8)])
        let all = try store.outboxEntries(after: 0, limit: 10)
        #expect(all.count == 3)
        try store.acknowledgeOutbox(endpoint: "fast", through: all[2].sequence, keep: ["fast", "slow"])
        #expect(try store.outboxCount() == 3)
        try store.acknowledgeOutbox(endpoint: "slow", through: all[0].sequence, keep: ["fast", "slow"])
        #expect(try store.outboxEntries(after: 0, limit: 10).map(\.sequence) == [all[1].sequence, all[2].sequence])
        // Survives a reopen: cursors and entries are in the store.
        store.close()
        store = try Store.open(at: root.path, options: smallOptions())
        defer { store.close() }
        #expect(try store.outboxCursor("slow") == all[0].sequence)
        #expect(try store.outboxCursor("fast") == all[2].sequence)
        #expect(try store.outboxCount() == 2)
        // A new endpoint starts at the end: it is not sent the backlog.
        #expect(try store.outboxCursor("late") == all[2].sequence)
        // "slow" is no longer configured: its cursor goes, and with it what only it was waiting for.
        try store.acknowledgeOutbox(endpoint: "fast", through: all[2].sequence, keep: ["fast", "late"])
        #expect(try store.outboxCount() == 0)
    }
}
