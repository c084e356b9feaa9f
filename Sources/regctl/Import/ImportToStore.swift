// Import into a storage root no server holds: the engine's own calls, so
// every byte is verified by the engine's streaming hash as it is written
// (small blobs: Store.putBlob; large ones: an upload session whose commit
// compares the digest and indexes nothing on a mismatch). With `--link`,
// large blobs go through Store.commitClone first: a reflink of
// distribution's file, hashed by the engine from the clone; when the file
// system cannot (another file system, no reflink support) the blob is copied
// as above and the report says why.

import CASEngine
import Foundation

struct ImportToStore: ImportTarget {
    let store: Store
    /// Blobs up to this size go through putBlob (the store's own threshold).
    let smallBlobThreshold: Int
    /// `--link`: reflink blobs above `smallBlobThreshold` where possible.
    var link = false
    var mode: String { "store" }

    static let chunkSize = 1 << 20

    func blob(_ digest: BlobDigest, path: String, repository: String) throws -> BlobOutcome {
        if try store.stat(digest, in: repository) != nil { return .present }
        if try store.stat(digest) != nil, try store.mountBlob(digest, into: repository, from: nil) != nil { return .linked }
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw ImportFailure(reason: .danglingLink, detail: "\(path) cannot be opened")
        }
        defer { try? file.close() }
        let size = try file.seekToEnd()
        try file.seek(toOffset: 0)
        do {
            if size <= UInt64(smallBlobThreshold) {
                let bytes = [UInt8](try file.readToEnd() ?? Data())
                try store.putBlob(bytes, digest: digest, repository: repository)
                return .copied(bytes: UInt64(bytes.count))
            }
            var fallback: String?
            if link {
                switch try store.commitClone(sourcePath: path, digest: digest, repository: repository) {
                case .cloned(let info): return .reflinked(bytes: info.size)
                case .present: return .linked
                case .unsupported(let reason): fallback = reason
                }
            }
            let upload = try store.startUpload(repository: repository)
            do {
                while let chunk = try file.read(upToCount: Self.chunkSize), !chunk.isEmpty {
                    _ = try chunk.withUnsafeBytes { try store.appendUpload(id: upload.id, repository: repository, offset: nil, $0) }
                }
                let info = try store.commitUpload(id: upload.id, repository: repository, digest: digest)
                if let fallback { return .copiedInsteadOfLink(bytes: info.size, reason: fallback) }
                return .copied(bytes: info.size)
            } catch let e as StoreError where e.code == .digestMismatch {
                throw e  // the engine discarded the session
            } catch {
                try? store.cancelUpload(id: upload.id, repository: repository)
                throw error
            }
        } catch let e as StoreError where e.code == .digestMismatch {
            throw ImportFailure(reason: .digestMismatch, detail: "\(path): \(e.message)")
        }
    }

    func hasManifest(_ digest: BlobDigest, repository: String) throws -> Bool {
        try store.manifestInfo(repository: repository, digest: digest) != nil
    }

    func putManifest(_ m: ImportPlan.Manifest, repository: String, tag: String?) throws {
        do {
            try store.putManifest(repository: repository, digest: m.digest, bytes: m.bytes, edges: m.edges,
                                  tags: tag.map { [$0] } ?? [])
        } catch let e as StoreError where e.code == .referenceUnknown {
            throw ImportFailure(reason: .missingReference, detail: e.message)
        } catch let e as StoreError where [.invalidArgument, .digestMismatch, .limitExceeded].contains(e.code) {
            throw ImportFailure(reason: .rejected, detail: e.message)
        }
    }

    func resolve(tag: String, repository: String) throws -> BlobDigest? {
        try store.resolve(repository: repository, tag: tag)
    }
}
