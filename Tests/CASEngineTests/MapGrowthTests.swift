// The LMDB map grows when full instead of failing the write, up to its
// configured ceiling; past the ceiling the write fails cleanly and nothing
// already committed is lost.

import Foundation
import Testing
@testable import CASEngine

@Suite struct MapGrowthTests {
    func temp() throws -> String {
        let root = NSTemporaryDirectory() + "berth-map-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root + "/meta", withIntermediateDirectories: true)
        return root
    }

    func commitMany(_ meta: MetaStore, from: Int, count: Int) throws {
        let rows = (from..<(from + count)).map { i in
            (digest: dg(i), location: loc(UInt32(i % 1000)), linkTo: String?.some("repo-\(i % 7)"))
        }
        for chunk in stride(from: 0, to: rows.count, by: 500) {
            _ = try meta.commitBlobs(Array(rows[chunk..<min(rows.count, chunk + 500)]), now: 1)
        }
    }

    @Test func aFullMapGrowsAndTheWriteSucceeds() throws {
        let root = try temp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let meta = try MetaStore(directory: root + "/meta", mapSize: 256 << 10, maxMapSize: 64 << 20, readOnly: false)
        defer { meta.close() }
        let start = meta.env.mapUsage.size
        try commitMany(meta, from: 0, count: 20_000)  // ~4 MiB of records and links: several doublings
        let grown = meta.env.mapUsage
        #expect(grown.size > start)
        #expect(grown.size <= 64 << 20)
        #expect(grown.used <= grown.size)
        for i in stride(from: 0, to: 20_000, by: 997) { #expect(try meta.blob(dg(i)) != nil) }
        #expect(try meta.isLinked(repository: "repo-5", digest: dg(19_997)))
    }

    @Test func pastTheCeilingTheWriteFailsAndCommittedDataStays() throws {
        let root = try temp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let meta = try MetaStore(directory: root + "/meta", mapSize: 256 << 10, maxMapSize: 1 << 20, readOnly: false)
        defer { meta.close() }
        var committed = 0
        var failure: StoreError?
        while failure == nil && committed < 100_000 {
            do {
                try commitMany(meta, from: committed, count: 500)
                committed += 500
            } catch let e as StoreError {
                failure = e
            }
        }
        #expect(failure?.code == .limitExceeded)
        #expect(failure?.message.contains("maxmapsize") == true)
        #expect(committed > 0)
        #expect(meta.env.mapUsage.size == 1 << 20)
        for i in stride(from: 0, to: committed, by: 101) { #expect(try meta.blob(dg(i)) != nil) }
        #expect(try meta.blob(dg(committed)) == nil, "the failed batch left nothing behind")
    }
}
