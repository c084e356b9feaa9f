// berth-crash-writer ROOT SEED [power-cut=N stash=DIR [skip-sync=SITE]]
//
// Child process of the crash suites (Tests/CASEngineTests/CrashTests.swift,
// PowerLossTests.swift). Writes small blobs, chunked uploads that become
// dedicated packs, tagged manifests, tag deletes and manifest deletes into the
// store at ROOT, one at a time, announcing each before the engine call and
// confirming it after the call returned:
//   TRY BLOB <repo> <digest>
//   TRY MANIFEST <repo> <digest> <tag> <ref-digest>...
//   TRY UNTAG <repo> <tag>
//   TRY DELETE <repo> <digest>
//   ACK
// An ACK line is a write the engine acknowledged; a TRY without ACK is the one
// write that was in flight when the process died (it may or may not have
// happened, never half). Everything the writer does follows from SEED.
//
// Without `power-cut` the test kills this process with SIGKILL. With it, the
// fault-injecting layer under PosixIO (debug builds) records what was not
// synced and, at its N-th disk-changing call, drops it and ends the process
// (exit 86), as a power cut would. `skip-sync=SITE` removes that one sync
// (`SyncSite`) to prove the suite notices.

import BerthTestSupport
import CASEngine
import Foundation

extension SplitMix64 {
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// Compressible content (a repeated JSON word) or random bytes.
    mutating func bytes(_ n: Int, compressible: Bool) -> [UInt8] {
        guard compressible else { return bytes(n) }
        let word = Array("{\"layer\":\"\(next())\"}".utf8)
        return (0..<n).map { word[$0 % word.count] }
    }
}

/// One unbuffered write(2) per line: once it returns, the parent can read it
/// even if this process is killed the next instant.
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(1)
}

let args = CommandLine.arguments
guard args.count >= 3, let seed = UInt64(args[2]) else {
    fail("usage: berth-crash-writer ROOT SEED [power-cut=N stash=DIR [skip-sync=SITE]]")
}
var extra: [String: String] = [:]
for a in args.dropFirst(3) {
    let kv = a.split(separator: "=", maxSplits: 1).map(String.init)
    guard kv.count == 2, ["power-cut", "stash", "skip-sync"].contains(kv[0]) else { fail("unknown argument \(a)") }
    extra[kv[0]] = kv[1]
}
if let cut = extra["power-cut"] {
    guard let n = Int(cut), let stash = extra["stash"] else { fail("power-cut=N needs stash=DIR") }
    var skip: SyncSite?
    if let s = extra["skip-sync"] {
        guard let site = SyncSite(rawValue: s) else { fail("unknown sync site \(s)") }
        skip = site
    }
    do {
        try FaultInjectingIO.enable(.init(stashDirectory: stash, cutAtOperation: n, skipSync: skip),
                                    generator: SplitMix64(seed: seed ^ 0x9E37_79B9_7F4A_7C15))
    } catch {
        fail("fault injection: \(error)")
    }
}

var rng = SplitMix64(seed: seed)
var options = StoreOptions()
options.smallBlobThreshold = 64 << 10
options.maxSharedPackSize = 4 << 20

let store: Store
do {
    store = try Store.open(at: args[1], options: options)
} catch {
    fail("open failed: \(error)")
}
emit("OPEN")

let repos = ["crash/a", "crash/b", "library/app"]
var blobs: [String: [BlobDigest]] = [:]
var manifests: [String: [BlobDigest]] = [:]
var tags: [String: [(tag: String, digest: BlobDigest)]] = [:]
var serial = 0

func sha256(_ bytes: [UInt8]) -> BlobDigest {
    bytes.withUnsafeBytes { BlobDigest.compute($0, .sha256) }
}

func pick<T>(_ pool: [T], _ rng: inout SplitMix64) -> (index: Int, element: T)? {
    guard !pool.isEmpty else { return nil }
    let i = rng.int(0...(pool.count - 1))
    return (i, pool[i])
}

while true {
    serial += 1
    let repo = repos[rng.int(0...(repos.count - 1))]
    do {
        switch rng.int(0...19) {
        case 0...7:
            let bytes = rng.bytes(rng.int(1...8192), compressible: rng.int(0...1) == 0)
            let digest = sha256(bytes)
            emit("TRY BLOB \(repo) \(digest)")
            try store.putBlob(bytes, digest: digest, repository: repo)
            blobs[repo, default: []].append(digest)
        case 8...10:
            let size = rng.int((64 << 10) + 1...(256 << 10))
            let bytes = rng.bytes(size, compressible: false)
            let digest = sha256(bytes)
            emit("TRY BLOB \(repo) \(digest)")
            let session = try store.startUpload(repository: repo)
            var offset = 0
            while offset < size {
                let n = min(size - offset, rng.int(4096...(128 << 10)))
                _ = try bytes[offset..<(offset + n)].withUnsafeBytes {
                    try store.appendUpload(id: session.id, repository: repo, offset: UInt64(offset), $0)
                }
                offset += n
            }
            _ = try store.commitUpload(id: session.id, repository: repo, digest: digest, expectedSize: UInt64(size))
            blobs[repo, default: []].append(digest)
        case 11...16:
            guard let pool = blobs[repo], !pool.isEmpty else { continue }
            let refs = (0..<rng.int(1...min(3, pool.count))).map { _ in pool[rng.int(0...(pool.count - 1))] }
            let json = "{\"schemaVersion\":2,\"serial\":\"\(seed)-\(serial)\",\"refs\":[\(refs.map { "\"\($0)\"" }.joined(separator: ","))]}"
            let bytes = Array(json.utf8)
            let digest = sha256(bytes)
            let tag = "s\(seed)-\(serial)"
            emit("TRY MANIFEST \(repo) \(digest) \(tag) \(refs.map(\.description).joined(separator: " "))")
            try store.putManifest(repository: repo, digest: digest, bytes: bytes,
                                  edges: ManifestEdges(mediaType: "application/vnd.oci.image.manifest.v1+json", references: refs),
                                  tags: [tag])
            manifests[repo, default: []].append(digest)
            tags[repo, default: []].append((tag, digest))
        case 17...18:
            guard let picked = pick(tags[repo] ?? [], &rng) else { continue }
            let tag = picked.element.tag
            emit("TRY UNTAG \(repo) \(tag)")
            try store.deleteTag(repository: repo, tag: tag)
            tags[repo]!.remove(at: picked.index)
        default:
            guard let picked = pick(manifests[repo] ?? [], &rng) else { continue }
            let digest = picked.element
            emit("TRY DELETE \(repo) \(digest)")
            try store.deleteManifest(repository: repo, digest: digest)
            manifests[repo]!.remove(at: picked.index)
            tags[repo]?.removeAll { $0.digest == digest } // its tags went with it
        }
        emit("ACK")
    } catch {
        fail("write failed: \(error)")
    }
}
