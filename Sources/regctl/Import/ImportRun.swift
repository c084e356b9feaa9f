// Carries out an ImportPlan against a target (the storage root opened
// directly, or a running Berth over HTTP): blobs, then manifests children
// first, then tags, asking the target first so a re-run copies nothing twice.
// A blob that fails verification is remembered for the whole run, so a
// corrupt blob shared by repositories is read once and reported per
// repository; everything that needs it is skipped with the reason.

import CASEngine
import Foundation

/// A skip the target decided (bytes that did not verify, a refused write).
/// Any other error (I/O, the server gone) ends the run: it is resumable.
struct ImportFailure: Error {
    let reason: ImportReport.Reason
    let detail: String
}

enum BlobOutcome: Equatable {
    case present
    /// Linked from a copy the target already had (another repository's).
    case linked
    case copied(bytes: UInt64)
    /// `--link`: stored as a reflink clone of distribution's file (no bytes copied).
    case reflinked(bytes: UInt64)
    /// `--link` was asked for but the engine could not clone (why): copied.
    case copiedInsteadOfLink(bytes: UInt64, reason: String)
}

protocol ImportTarget {
    var mode: String { get }
    /// `--link`: large blobs by reflink where the engine can.
    var link: Bool { get }
    /// Makes `digest` (bytes at `path`, verified while read) available in
    /// `repository`. Throws ImportFailure(.digestMismatch) and stores nothing
    /// when the bytes hash otherwise.
    func blob(_ digest: BlobDigest, path: String, repository: String) throws -> BlobOutcome
    func hasManifest(_ digest: BlobDigest, repository: String) throws -> Bool
    /// Stores the manifest, pointing `tag` at it when given.
    func putManifest(_ manifest: ImportPlan.Manifest, repository: String, tag: String?) throws
    func resolve(tag: String, repository: String) throws -> BlobDigest?
}

enum ImportRun {
    static func run(_ plan: ImportPlan, _ layout: DistributionLayout, into target: any ImportTarget) throws -> ImportReport {
        var report = ImportReport(mode: target.mode)
        report.linkRequested = target.link
        for s in plan.skipped { report.skip(s.kind, s.repository, s.name, s.reason, s.detail) }
        var failedBlobs: [BlobDigest: ImportFailure] = [:]
        for repo in plan.repositories {
            report.repositories += 1
            var available = Set<BlobDigest>()
            for d in repo.blobs {
                if let f = failedBlobs[d] {
                    report.skip(.blob, repo.name, d.description, f.reason, f.detail)
                    continue
                }
                do {
                    switch try target.blob(d, path: layout.blobPath(d), repository: repo.name) {
                    case .present: report.blobs.present += 1
                    case .linked: report.blobs.imported += 1
                    case .copied(let n):
                        report.blobs.imported += 1
                        report.bytesCopied += n
                    case .reflinked(let n):
                        report.blobs.imported += 1
                        report.reflinked += 1
                        report.bytesReflinked += n
                    case .copiedInsteadOfLink(let n, let reason):
                        report.blobs.imported += 1
                        report.bytesCopied += n
                        report.linkFallbacks.append(.init(repository: repo.name, digest: d.description, reason: reason))
                    }
                    available.insert(d)
                } catch let f as ImportFailure {
                    failedBlobs[d] = f
                    report.skip(.blob, repo.name, d.description, f.reason, f.detail)
                }
            }

            var manifests: [BlobDigest: ImportPlan.Manifest] = [:]
            for m in repo.manifests {
                if let missing = m.edges.references.first(where: { !available.contains($0) }) {
                    let why = failedBlobs[missing].map { "it was skipped (\($0.reason.rawValue))" }
                        ?? (repo.manifests.contains { $0.digest == missing } ? "that manifest was skipped"
                            : "it is not in the distribution root")
                    report.skip(.manifest, repo.name, m.digest.description, .missingReference, "references \(missing); \(why)")
                    continue
                }
                do {
                    if try target.hasManifest(m.digest, repository: repo.name) {
                        report.manifests.present += 1
                    } else {
                        try target.putManifest(m, repository: repo.name, tag: nil)
                        report.manifests.imported += 1
                    }
                    available.insert(m.digest)
                    manifests[m.digest] = m
                } catch let f as ImportFailure {
                    report.skip(.manifest, repo.name, m.digest.description, f.reason, f.detail)
                }
            }

            for tag in repo.tags {
                guard let m = manifests[tag.digest] else {
                    report.skip(.tag, repo.name, tag.name, .manifestSkipped, "its manifest \(tag.digest) was not imported")
                    continue
                }
                do {
                    switch try target.resolve(tag: tag.name, repository: repo.name) {
                    case tag.digest?:
                        report.tags.present += 1
                    case let other?:
                        report.skip(.tag, repo.name, tag.name, .tagConflict,
                                    "Berth's tag points at \(other), distribution's at \(tag.digest); left unchanged")
                    case nil:
                        try target.putManifest(m, repository: repo.name, tag: tag.name)
                        report.tags.imported += 1
                    }
                } catch let f as ImportFailure {
                    report.skip(.tag, repo.name, tag.name, f.reason, f.detail)
                }
            }
            report.tagHistoryNotImported += repo.historyNotImported
        }
        return report
    }
}
