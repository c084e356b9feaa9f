// What to bring over from a distribution root, in the order Berth accepts it:
// per repository, the blobs (layer links, plus blobs its manifests reference
// that distribution holds without a link), then its manifests with every
// child before the index naming it, then its tags. Planning reads only
// manifests (small, hashed and parsed here: a manifest whose bytes do not
// match its digest, or that OCIModel refuses, is skipped now); blob bytes
// are verified while they are copied (ImportRun).

import CASEngine
import Foundation
import OCIModel
import RegistryHTTP

struct ImportPlan {
    struct Manifest {
        let digest: BlobDigest
        let bytes: [UInt8]
        let mediaType: String
        let edges: ManifestEdges
    }

    struct Repository {
        let name: String
        /// Blobs whose bytes are in distribution's blobs/, digest order.
        var blobs: [BlobDigest] = []
        /// Children before parents.
        var manifests: [Manifest] = []
        var tags: [(name: String, digest: BlobDigest)] = []
        var historyNotImported = 0
    }

    var repositories: [Repository] = []
    /// Skips found while planning (links, manifest bytes).
    var skipped: [ImportReport.Skip] = []

    /// `indexChildren`: the target's `validation.manifests.indexes` policy, so
    /// a sparse index distribution accepted imports where Berth would accept its push.
    init(_ layout: DistributionLayout, maxManifestSize: Int = ParsedManifest.defaultMaxSize, indexChildren: IndexChildPolicy = .all) {
        for repo in layout.repositories {
            repositories.append(plan(repo, layout, maxManifestSize, indexChildren))
        }
    }

    private mutating func skip(_ kind: ImportReport.Skip.Kind, _ repo: String, _ name: String,
                               _ reason: ImportReport.Reason, _ detail: String) {
        skipped.append(.init(kind: kind, repository: repo, name: name, reason: reason, detail: detail))
    }

    private mutating func plan(_ repo: DistributionLayout.Repository, _ layout: DistributionLayout,
                               _ maxManifestSize: Int, _ indexChildren: IndexChildPolicy) -> Repository {
        let fm = FileManager.default
        var out = Repository(name: repo.name)
        var blobs = Set<BlobDigest>()
        for link in repo.layers {
            guard let d = link.digest else {
                skip(.blob, repo.name, link.path, .badLink, link.problem ?? "")
                continue
            }
            guard fm.fileExists(atPath: layout.blobPath(d)) else {
                skip(.blob, repo.name, d.description, .danglingLink, "\(link.path) names a blob missing from blobs/")
                continue
            }
            blobs.insert(d)
        }

        var manifests: [BlobDigest: Manifest] = [:]
        for link in repo.revisions {
            guard let d = link.digest else {
                skip(.manifest, repo.name, link.path, .badLink, link.problem ?? "")
                continue
            }
            let path = layout.blobPath(d)
            guard let data = fm.contents(atPath: path) else {
                skip(.manifest, repo.name, d.description, .danglingLink, "\(link.path) names a manifest missing from blobs/")
                continue
            }
            let bytes = [UInt8](data)
            let actual = BlobDigest.compute(bytes, d.algorithm)
            guard actual == d else {
                skip(.manifest, repo.name, d.description, .digestMismatch, "\(path) hashes to \(actual)")
                continue
            }
            guard bytes.count <= maxManifestSize else {
                skip(.manifest, repo.name, d.description, .unparseableManifest,
                     "\(bytes.count) bytes, more than the \(maxManifestSize)-byte manifest limit")
                continue
            }
            do {
                let parsed = try ParsedManifest.parse(bytes, contentType: nil)
                manifests[d] = Manifest(digest: d, bytes: bytes, mediaType: parsed.mediaType, edges: try ManifestEdges(parsed, indexChildren: indexChildren))
            } catch {
                skip(.manifest, repo.name, d.description, .unparseableManifest, "\(error)")
            }
        }

        // A referenced blob distribution holds without a layer link (a push
        // that mounted it, say) is brought along: the manifest needs it.
        // One it does not hold at all fails the manifest at import time.
        for m in manifests.values {
            for r in m.edges.references where manifests[r] == nil && !blobs.contains(r) {
                if fm.fileExists(atPath: layout.blobPath(r)) { blobs.insert(r) }
            }
        }
        out.blobs = blobs.sorted()
        out.manifests = Self.childrenFirst(manifests)

        for tag in repo.tags {
            guard let current = tag.current else {
                skip(.tag, repo.name, tag.name, .danglingLink, "the tag has no current/link")
                continue
            }
            guard let d = current.digest else {
                skip(.tag, repo.name, tag.name, .badLink, current.problem ?? "")
                continue
            }
            guard repo.revisions.contains(where: { $0.digest == d }) else {
                skip(.tag, repo.name, tag.name, .danglingLink, "current/link names \(d), which is not a revision of the repository")
                continue
            }
            out.tags.append((tag.name, d))
            out.historyNotImported += tag.history.filter { $0.digest != d }.count
        }
        return out
    }

    /// Depth-first: every manifest after the manifests it references.
    static func childrenFirst(_ manifests: [BlobDigest: Manifest]) -> [Manifest] {
        var order: [Manifest] = []
        var visited = Set<BlobDigest>()
        func visit(_ d: BlobDigest) {
            guard let m = manifests[d], visited.insert(d).inserted else { return }
            // A sparse index's children too: one present counts as its reference.
            for r in m.edges.references + m.edges.sparseChildren { visit(r) }
            order.append(m)
        }
        for d in manifests.keys.sorted() { visit(d) }
        return order
    }
}
