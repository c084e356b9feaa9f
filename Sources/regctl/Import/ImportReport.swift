// What `regctl import` did: counts per kind and every skip with its reason,
// printed as text or (`--json`) as one JSON object. With `--link`, also the
// blobs reflinked and, per blob, why a requested reflink became a copy.

import Foundation

struct ImportReport: Codable, Equatable {
    enum Reason: String, Codable {
        /// A link names a blob that is not in blobs/ (or a tag names a
        /// manifest that is not among the repository's revisions).
        case danglingLink = "dangling-link"
        /// A link file that holds no usable digest.
        case badLink = "bad-link"
        /// The bytes in blobs/ do not hash to the digest they are stored under.
        case digestMismatch = "digest-mismatch"
        /// Manifest bytes OCIModel refuses (schema 1, not JSON, too large).
        case unparseableManifest = "unparseable-manifest"
        /// A manifest referencing a blob or manifest that was not imported.
        case missingReference = "missing-reference"
        /// A tag whose manifest was not imported.
        case manifestSkipped = "manifest-skipped"
        /// Berth's tag already points at another manifest: left as it is.
        case tagConflict = "tag-conflict"
        /// Berth refused the write (its error is in `detail`).
        case rejected
    }

    struct Counts: Codable, Equatable {
        var imported = 0
        /// Already in Berth before this run (a re-run finds everything here).
        var present = 0
        var skipped = 0
    }

    struct LinkFallback: Codable, Equatable {
        let repository: String
        let digest: String
        let reason: String
    }

    struct Skip: Codable, Equatable {
        enum Kind: String, Codable { case blob, manifest, tag }
        let kind: Kind
        let repository: String
        /// Digest, or tag name.
        let name: String
        let reason: Reason
        let detail: String
    }

    /// "store" (the storage root opened directly) or "http" (over the API).
    var mode: String
    var repositories = 0
    var blobs = Counts()
    var manifests = Counts()
    var tags = Counts()
    var bytesCopied: UInt64 = 0
    /// `--link` was given (store mode only).
    var linkRequested = false
    /// Blobs brought in by reflink (`--link`): sharing distribution's extents.
    var reflinked = 0
    /// Bytes of those blobs, not copied (not counted in `bytesCopied`).
    var bytesReflinked: UInt64 = 0
    /// Large blobs `--link` asked to reflink that were copied instead, and why.
    var linkFallbacks: [LinkFallback] = []
    /// Entries of tags/<t>/index/ naming a digest other than the tag's
    /// current one. Berth's engine has no way to write past tag history
    /// (Store records history only as tags move), so these are not imported.
    var tagHistoryNotImported = 0
    var skipped: [Skip] = []

    init(mode: String) { self.mode = mode }

    /// Exit status 1 when anything was skipped for a problem.
    var isComplete: Bool { skipped.isEmpty }

    mutating func skip(_ kind: Skip.Kind, _ repository: String, _ name: String, _ reason: Reason, _ detail: String) {
        skipped.append(Skip(kind: kind, repository: repository, name: name, reason: reason, detail: detail))
        switch kind {
        case .blob: blobs.skipped += 1
        case .manifest: manifests.skipped += 1
        case .tag: tags.skipped += 1
        }
    }

    var text: String {
        func line(_ what: String, _ c: Counts) -> String {
            "\(what): \(c.imported) imported, \(c.present) already present, \(c.skipped) skipped"
        }
        var out = ["import (\(mode)): \(repositories) repositories",
                   line("blobs", blobs), line("manifests", manifests), line("tags", tags),
                   "bytes copied: \(bytesCopied)"]
        if linkRequested {
            out.append("reflinked \(reflinked) blobs, \(bytesReflinked) bytes not copied"
                       + (linkFallbacks.isEmpty ? "" : "; \(linkFallbacks.count) copied instead (see below)"))
            for f in linkFallbacks {
                out.append("copied instead of reflinked: blob \(f.repository) \(f.digest): \(f.reason)")
            }
        }
        if tagHistoryNotImported > 0 {
            out.append("tag history: \(tagHistoryNotImported) earlier tag targets not imported (Berth keeps tag history only from its own tag moves)")
        }
        for s in skipped {
            out.append("skipped \(s.kind.rawValue) \(s.repository) \(s.name): \(s.reason.rawValue): \(s.detail)")
        }
        out.append(isComplete ? "import: complete" : "import: \(skipped.count) skipped (see above)")
        return out.joined(separator: "\n")
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}
