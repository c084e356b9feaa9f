// berth-crash-writer ROOT SEED
//
// Child process of the crash suite (Tests/CASEngineTests/CrashTests.swift).
// Writes small blobs, chunked uploads that become dedicated packs, and tagged
// manifests into the store at ROOT, printing one line per ACKNOWLEDGED write:
//   BLOB <repo> <digest>
//   MANIFEST <repo> <digest> <tag> <ref-digest>...
// A line is printed (and flushed) only after the engine call returned, so
// every printed line is a write the engine acknowledged. The test kills this
// process with SIGKILL at a random moment and then checks every printed line.

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
guard args.count == 3, let seed = UInt64(args[2]) else {
    fail("usage: berth-crash-writer ROOT SEED")
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
var acked: [String: [BlobDigest]] = [:]
var serial = 0

func sha256(_ bytes: [UInt8]) -> BlobDigest {
    bytes.withUnsafeBytes { BlobDigest.compute($0, .sha256) }
}

while true {
    serial += 1
    let repo = repos[rng.int(0...(repos.count - 1))]
    do {
        switch rng.int(0...9) {
        case 0...3:
            let bytes = rng.bytes(rng.int(1...8192), compressible: rng.int(0...1) == 0)
            let digest = sha256(bytes)
            try store.putBlob(bytes, digest: digest, repository: repo)
            acked[repo, default: []].append(digest)
            emit("BLOB \(repo) \(digest)")
        case 4...6:
            let size = rng.int((64 << 10)...(768 << 10))
            let bytes = rng.bytes(size, compressible: false)
            let digest = sha256(bytes)
            let session = try store.startUpload(repository: repo)
            var offset = 0
            while offset < size {
                let n = min(size - offset, rng.int(4096...(256 << 10)))
                _ = try bytes[offset..<(offset + n)].withUnsafeBytes {
                    try store.appendUpload(id: session.id, repository: repo, offset: UInt64(offset), $0)
                }
                offset += n
            }
            _ = try store.commitUpload(id: session.id, repository: repo, digest: digest, expectedSize: UInt64(size))
            acked[repo, default: []].append(digest)
            emit("BLOB \(repo) \(digest)")
        default:
            guard let pool = acked[repo], !pool.isEmpty else { continue }
            let refs = (0..<rng.int(1...min(3, pool.count))).map { _ in pool[rng.int(0...(pool.count - 1))] }
            let json = "{\"schemaVersion\":2,\"serial\":\"\(seed)-\(serial)\",\"refs\":[\(refs.map { "\"\($0)\"" }.joined(separator: ","))]}"
            let bytes = Array(json.utf8)
            let digest = sha256(bytes)
            let tag = "s\(seed)-\(serial)"
            try store.putManifest(repository: repo, digest: digest, bytes: bytes,
                                  edges: ManifestEdges(mediaType: "application/vnd.oci.image.manifest.v1+json", references: refs),
                                  tags: [tag])
            emit("MANIFEST \(repo) \(digest) \(tag) \(refs.map(\.description).joined(separator: " "))")
        }
    } catch {
        fail("write failed: \(error)")
    }
}
