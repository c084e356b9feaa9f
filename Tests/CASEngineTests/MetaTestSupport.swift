import Foundation
@testable import CASEngine

/// A MetaStore in a fresh temporary directory, removed on deinit.
final class TempMeta {
    let root: String
    let dir: String
    var store: MetaStore

    init(mapSize: Int = 64 << 20) throws {
        root = NSTemporaryDirectory() + "berth-meta-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        dir = root + "/meta"
        store = try MetaStore(directory: dir, mapSize: mapSize, readOnly: false)
    }

    func reopen(readOnly: Bool = false) throws {
        store.close()
        store = try MetaStore(directory: dir, mapSize: 64 << 20, readOnly: readOnly)
    }

    deinit {
        store.close()
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// Deterministic test digest number `n` (sha256).
func dg(_ n: Int) -> BlobDigest {
    var bytes = [UInt8](repeating: 0, count: 32)
    bytes[0] = UInt8(truncatingIfNeeded: n >> 8)
    bytes[1] = UInt8(truncatingIfNeeded: n)
    return BlobDigest(algorithm: .sha256, bytes: bytes)!
}

func loc(_ n: UInt32, raw: UInt64 = 100) -> BlobLocation {
    BlobLocation(packID: n, recordOffset: UInt64(n) * 1000, storedLength: raw, rawLength: raw, flags: [])
}

let imageType = "application/vnd.oci.image.manifest.v1+json"
let indexType = "application/vnd.oci.image.index.v1+json"

/// Thread-safe value box for cross-thread test results.
final class LockedBox<T>: @unchecked Sendable {
    // @unchecked: every access to `value` goes through `lock`.
    private let lock = NSLock()
    private var value: T
    init(_ value: T) { self.value = value }
    func set(_ v: T) { lock.lock(); value = v; lock.unlock() }
    func get() -> T { lock.lock(); defer { lock.unlock() }; return value }
}

extension MetaStore {
    /// Commits blobs `ns` (location = their number), linked into `repo`.
    @discardableResult
    func commit(_ ns: [Int], into repo: String?, now: UInt64 = 1) throws -> [BlobRecord] {
        try commitBlobs(ns.map { (dg($0), loc(UInt32($0)), repo) }, now: now)
    }
}
