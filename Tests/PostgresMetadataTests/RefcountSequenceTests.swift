// Seeded random sequences of pushes, tag moves and deletes, manifest deletes
// and collector claims, run concurrently by several writers: after each
// round every refcount equals a recount from manifests and references,
// every blob at 0 has a review item, and no manifest references a blob
// that is gone. A failing seed is printed, so a failure replays.

import Foundation
import PostgresMetadata
import Testing

@Suite("PostgreSQL refcounts under random sequences", .timeLimit(.minutes(4)))
struct RefcountSequenceTests {
    typealias D = Fixture

    /// SplitMix64: small, seeded, the same sequence on every platform.
    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
    }

    /// One writer's step; conflicts and unknowns from racing writers are expected outcomes.
    static func step(_ store: PostgresMetadataStore, _ g: inout Generator) async throws {
        let repo = ["app", "lib"][g.next(2)]
        let layers = (0..<g.next(3)).map { _ in D.digest("layer\(g.next(6))") }
        let image = "img\(g.next(8))"
        do {
            switch g.next(6) {
            case 0, 1: try await D.push(store, repo, image, layers: layers, tag: "t\(g.next(4))")
            case 2: try await store.putTag(repository: repo, tag: "t\(g.next(4))", digest: D.digest(image))
            case 3: try await store.deleteTag(repository: repo, tag: "t\(g.next(4))")
            case 4: try await store.deleteManifest(repository: repo, digest: D.digest(image))
            default:
                _ = try await store.collectDueManifest()
                _ = try await store.collectDueBlob(deleteContent: { _ in })
            }
        } catch let error as PostgresMetadataError {
            switch error {
            case .manifestUnknown, .tagUnknown, .referenceUnknown, .tagConflict: break
            default: throw error
            }
        }
    }

    @Test(arguments: [UInt64(1), 20_261_204])
    func refcountsMatchARecount(seed: UInt64) async throws {
        try await withStore { store, cluster in
            for round in 0..<6 {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<3 {
                        group.addTask {
                            var g = Generator(state: seed &* 31 &+ UInt64(round * 3 + writer))
                            for _ in 0..<8 { try await Self.step(store, &g) }
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(try cluster.refcountMismatches() == "", "seed \(seed) round \(round)")
                #expect(try cluster.unqueuedZeroBlobs() == "", "seed \(seed) round \(round)")
                #expect(try cluster.psql("""
                    SELECT r.child_digest FROM manifest_references r WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.digest = r.child_digest)
                    """) == "", "seed \(seed) round \(round): a reference to a collected blob")
            }
            #expect(try cluster.psql("SELECT count(*) > 0 FROM manifests") == "t\n", "the sequence did build images")
        }
    }
}
