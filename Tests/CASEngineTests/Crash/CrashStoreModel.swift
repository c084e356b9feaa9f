// What a store must contain after the crash writer's acknowledged writes (and
// its in-flight write, if that one took effect), and the exact check of a
// reopened store against it: the crash suites' oracle.

import Foundation
@testable import CASEngine

struct CrashStoreModel {
    struct RepoDigest: Hashable {
        var repo: String
        var digest: BlobDigest
    }

    /// Blobs uploaded into a repository (the writer never unlinks).
    var links: Set<RepoDigest> = []
    /// Live manifests and their distinct references.
    var manifests: [RepoDigest: Set<BlobDigest>] = [:]
    /// Manifests deleted (and not pushed again).
    var deleted: Set<RepoDigest> = []
    var tags: [String: [String: BlobDigest]] = [:]
    /// Every digest the writer ever tried to store: the refcount check covers
    /// them all, so a leaked (too high) count is caught as well as a lost one.
    var known: Set<BlobDigest> = []

    mutating func apply(_ op: WriterOp) {
        switch op {
        case .blob(let repo, let d):
            links.insert(RepoDigest(repo: repo, digest: d))
            known.insert(d)
        case .manifest(let repo, let d, let tag, let refs):
            let key = RepoDigest(repo: repo, digest: d)
            manifests[key] = Set(refs)
            deleted.remove(key)
            tags[repo, default: [:]][tag] = d
            known.insert(d)
            known.formUnion(refs)
        case .untag(let repo, let tag):
            tags[repo]?[tag] = nil
        case .deleteManifest(let repo, let d):
            let key = RepoDigest(repo: repo, digest: d)
            manifests[key] = nil
            deleted.insert(key)
            tags[repo] = tags[repo]?.filter { $0.value != d }
        }
    }

    /// Whether the in-flight write happened (each is one LMDB transaction:
    /// all or nothing, so one probe decides).
    func tookEffect(_ op: WriterOp, in store: Store) throws -> Bool {
        switch op {
        case .blob(let repo, let d): try store.isAvailable(d, in: repo) && store.stat(d) != nil
        case .manifest(let repo, let d, let tag, _): try store.resolve(repository: repo, tag: tag) == d
        case .untag(let repo, let tag): try store.resolve(repository: repo, tag: tag) == nil
        case .deleteManifest(let repo, let d): try store.manifestInfo(repository: repo, digest: d) == nil
        }
    }

    /// Holders of `d`: one per live manifest that is `d` and one per live
    /// manifest whose distinct references contain it (RECOVERY.md "Manifest PUT").
    func expectedRefcounts() -> [BlobDigest: UInt64] {
        var counts: [BlobDigest: UInt64] = [:]
        for (key, refs) in manifests {
            counts[key.digest, default: 0] += 1
            for r in refs { counts[r, default: 0] += 1 }
        }
        return counts
    }

    /// Everything in which `store` differs from the model; empty when it
    /// matches exactly. Blob and manifest bytes are read and re-hashed for
    /// `reading` (nil: all); everything else is checked for every write.
    func violations(in store: Store, reading: Set<BlobDigest>?) -> [String] {
        var found: [String] = []
        func probe(_ what: String, _ body: () throws -> Void) {
            do { try body() } catch { found.append("\(what): \(error)") }
        }
        for link in links.sorted(by: { ($0.repo, $0.digest.description) < ($1.repo, $1.digest.description) }) {
            probe("blob \(link.digest) in \(link.repo)") {
                // Not `stat(_:in:)`: on a zero-ref blob that writes (touch),
                // one LMDB commit per blob per check.
                guard try store.isAvailable(link.digest, in: link.repo), let info = try store.stat(link.digest) else {
                    found.append("acknowledged blob \(link.digest) missing from \(link.repo)")
                    return
                }
                guard reading?.contains(link.digest) ?? true else { return }
                let bytes = try store.openBlob(link.digest, in: nil).read(offset: 0, length: Int(info.size))
                if BlobDigest.compute(bytes, link.digest.algorithm) != link.digest {
                    found.append("blob \(link.digest) in \(link.repo): bytes do not hash to the digest")
                }
                try store.verify(link.digest)
            }
        }
        for key in manifests.keys.sorted(by: { $0.digest.description < $1.digest.description }) {
            probe("manifest \(key.digest) in \(key.repo)") {
                guard reading?.contains(key.digest) ?? true else {
                    if try store.manifestInfo(repository: key.repo, digest: key.digest) == nil {
                        found.append("acknowledged manifest \(key.digest) missing from \(key.repo)")
                    }
                    return
                }
                // Store.manifest re-hashes the bytes and throws if they differ.
                if try store.manifest(repository: key.repo, digest: key.digest) == nil {
                    found.append("acknowledged manifest \(key.digest) missing from \(key.repo)")
                }
            }
        }
        for key in deleted where manifests[key] == nil {
            probe("deleted manifest \(key.digest)") {
                if try store.manifestInfo(repository: key.repo, digest: key.digest) != nil {
                    found.append("deleted manifest \(key.digest) is back in \(key.repo)")
                }
            }
        }
        probe("tags") {
            let repos = Set(tags.keys).union(try store.repositories(after: nil, limit: nil))
            for repo in repos.sorted() {
                let expected = tags[repo] ?? [:]
                let listed = Set(try store.tags(repository: repo, after: nil, limit: nil) ?? [])
                let extra = listed.subtracting(expected.keys), missing = Set(expected.keys).subtracting(listed)
                if !extra.isEmpty || !missing.isEmpty {
                    found.append("tags of \(repo): \(missing.sorted()) missing, \(extra.sorted()) never acknowledged or deleted")
                }
                for (tag, d) in expected where listed.contains(tag) {
                    let now = try store.resolve(repository: repo, tag: tag)
                    if now != d { found.append("tag \(repo):\(tag) points at \(now.map(\.description) ?? "nothing"), not \(d)") }
                }
            }
        }
        let counts = expectedRefcounts()
        for d in known.sorted(by: { $0.description < $1.description }) {
            probe("refcount of \(d)") {
                let rc = try store.refcount(of: d) ?? 0
                let expected = counts[d] ?? 0
                if rc != expected { found.append("refcount of \(d) is \(rc), the acknowledged writes make it \(expected)") }
            }
        }
        probe("fsck") {
            let r = try store.fsck(verifyContent: false, scanPacks: false, repair: false)
            for c in r.corrupt { found.append("fsck: \(c.digest) corrupt: \(c.problem)") }
            for m in r.refcountMismatches { found.append("fsck: refcount of \(m.digest) stored \(m.stored), edges say \(m.expected)") }
            for m in r.danglingReferences { found.append("fsck: \(m.repository) \(m.manifest) references missing \(m.missing)") }
            // Derived tables, and the recovery journal, which must again
            // describe the index after every crash (re-snapshotted at open
            // when it lost a tail).
            for f in r.indexFindings + r.journalFindings { found.append("fsck: \(f)") }
        }
        return found
    }

    /// Reopens the store after a writer ended, folds the run into the model
    /// (its in-flight write only if it took effect) and returns every difference.
    mutating func check(root: String, after run: WriterOutput) -> [String] {
        let store: Store
        do { store = try Store.open(at: root) } catch { return ["reopen failed: \(error)"] }
        defer { store.close() }
        for op in run.acked { apply(op) }
        if let op = run.inFlight {
            do {
                if try tookEffect(op, in: store) { apply(op) }
            } catch {
                return ["probing in-flight \(op): \(error)"]
            }
        }
        var fresh = Set<BlobDigest>()
        for op in run.acked + [run.inFlight].compactMap({ $0 }) {
            switch op {
            case .blob(_, let d), .manifest(_, let d, _, _): fresh.insert(d)
            default: break
            }
        }
        return violations(in: store, reading: fresh)
    }
}
