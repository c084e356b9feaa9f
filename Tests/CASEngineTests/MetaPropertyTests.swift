import Foundation
import PropertyBased
import Testing
@testable import CASEngine

/// Plain in-memory model of the metadata semantics the property test checks.
struct MetaModel {
    struct Manifest { var refs: Set<BlobDigest>; var subject: BlobDigest?; var artifactType: String?; var size: UInt64 }

    var blobs: [BlobDigest: UInt64] = [:]                  // digest -> rawLength
    var links: [String: Set<BlobDigest>] = [:]
    var manifests: [String: [BlobDigest: Manifest]] = [:]
    var tags: [String: [String: BlobDigest]] = [:]

    func refcount(_ d: BlobDigest) -> UInt64 {
        var n: UInt64 = 0
        for (_, ms) in manifests {
            for (m, e) in ms {
                if m == d { n += 1 }
                if e.refs.contains(d) { n += 1 }
            }
        }
        return n
    }

    func available(_ repo: String) -> Set<BlobDigest> {
        var s = links[repo, default: []]
        for (m, e) in manifests[repo, default: [:]] { s.insert(m); s.formUnion(e.refs) }
        return s
    }

    var repositories: [String] {
        Set(links.filter { !$0.value.isEmpty }.keys)
            .union(manifests.filter { !$0.value.isEmpty }.keys)
            .union(tags.filter { !$0.value.isEmpty }.keys)
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}

@Suite struct MetaPropertyTests {
    static let repos = ["lib/a", "lib/b", "c"]
    static let tagNames = ["latest", "v1", "v1.0"]
    static let digests = (0..<20).map(dg)

    /// One operation per generated integer; the integer's digits pick the
    /// operation and its arguments, so shrinking the array shrinks the sequence.
    /// Failures print the input and a `.fixedSeed(...)` to reproduce them.
    @Test func randomSequencesMatchModel() async {
        await propertyCheck(count: 100, input: Gen.int(in: 0...Int(Int32.max)).array(of: 50...200)) { ops in
            // PropertyBased 2.0.1 swallows errors thrown by the body (`try?`
            // around the scope), so a mismatch must be recorded as an issue.
            do {
                try Self.run(ops)
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    struct Mismatch: Error, CustomStringConvertible { let description: String }

    static func run(_ ops: [Int]) throws {
        let t = try TempMeta()
        var model = MetaModel()
        for (step, op) in ops.enumerated() {
            let now = UInt64(step + 1)
            var rest = op
            func pick(_ n: Int) -> Int { defer { rest /= n }; return rest % n }
            let kind = pick(9)
            let repo = repos[pick(3)]
            let d = digests[pick(20)]
            let desc = "step \(step) op \(op) kind \(kind) repo \(repo) digest #\(digests.firstIndex(of: d)!)"

            /// Runs `action`; when the model predicts an error, expects that code.
            func check<T>(_ expected: StoreError.Code?, _ action: () throws -> T) throws -> T? {
                do {
                    let v = try action()
                    if let expected { throw Mismatch(description: "\(desc): expected \(expected), got success") }
                    return v
                } catch let e as StoreError {
                    guard e.code == expected else { throw Mismatch(description: "\(desc): unexpected \(e)") }
                    return nil
                }
            }

            switch kind {
            case 0: // commitBlobs, batch of 1-3, maybe linked
                let count = 1 + pick(3)
                let link = pick(2) == 0 ? repo : nil
                let start = digests.firstIndex(of: d)!
                let batch = (0..<count).map { digests[(start + $0 * 7) % 20] }
                _ = try check(nil) {
                    try t.store.commitBlobs(batch.map { ($0, loc(UInt32(digests.firstIndex(of: $0)!)), link) }, now: now)
                }
                for b in batch where model.blobs[b] == nil { model.blobs[b] = 100 }
                if let link { model.links[link, default: []].formUnion(batch) }
            case 1: // link
                let got = try check(nil) { try t.store.link(repository: repo, digest: d, now: now) }
                let exists = model.blobs[d] != nil
                guard got == exists else { throw Mismatch(description: "\(desc): link returned \(String(describing: got))") }
                if exists { model.links[repo, default: []].insert(d) }
            case 2: // unlink
                let got = try check(nil) { try t.store.unlink(repository: repo, digest: d) }
                let was = model.links[repo]?.remove(d) != nil
                guard got == was else { throw Mismatch(description: "\(desc): unlink returned \(String(describing: got))") }
            case 3: // putManifest
                let available = model.available(repo).subtracting([d]).sorted()
                var refs: [BlobDigest] = []
                for _ in 0..<pick(4) where !available.isEmpty { refs.append(available[pick(available.count)]) }
                let injectUnknown = pick(6) == 0
                if injectUnknown {
                    let unknown = digests.filter { $0 != d && !model.available(repo).contains($0) }
                    if let u = unknown.first { refs.append(u) }
                }
                let subject = pick(3) == 0 ? digests[pick(20)] : nil
                let artifactType = ["sig", "sbom", nil][pick(3)]
                let tagList = pick(2) == 0 ? [tagNames[pick(3)]] : []
                let withLocation = pick(8) != 0
                let location = withLocation ? loc(UInt32(digests.firstIndex(of: d)!), raw: 500) : nil
                let isNew = model.manifests[repo]?[d] == nil
                let avail = model.available(repo)
                var expected: StoreError.Code?
                let missingBytes = model.blobs[d] == nil && !withLocation
                if !missingBytes && isNew && refs.contains(where: { !avail.contains($0) }) {
                    expected = .referenceUnknown
                }
                let edges = ManifestEdges(mediaType: imageType, references: refs, subject: subject, artifactType: artifactType)
                let recorded = try check(expected) {
                    try t.store.putManifest(repository: repo, digest: d, location: location, edges: edges, tags: tagList, now: now)
                }
                // No blob record and no location: false, nothing changed.
                if let recorded, recorded == missingBytes {
                    throw Mismatch(description: "\(desc): putManifest returned \(recorded) with missing bytes \(missingBytes)")
                }
                if expected == nil && !missingBytes {
                    if model.blobs[d] == nil { model.blobs[d] = 500 }
                    if isNew {
                        model.manifests[repo, default: [:]][d] = .init(refs: Set(refs), subject: subject, artifactType: artifactType,
                                                                        size: model.blobs[d]!)
                    }
                    for tag in tagList { model.tags[repo, default: [:]][tag] = d }
                }
            case 4: // setTag
                let tag = tagNames[pick(3)]
                let known = model.manifests[repo]?[d] != nil
                _ = try check(known ? nil : .manifestUnknown) { try t.store.setTag(repository: repo, tag: tag, digest: d, now: now) }
                if known { model.tags[repo, default: [:]][tag] = d }
            case 5: // deleteTag
                let tag = tagNames[pick(3)]
                let known = model.tags[repo]?[tag] != nil
                _ = try check(known ? nil : .tagUnknown) { try t.store.deleteTag(repository: repo, tag: tag, now: now) }
                model.tags[repo]?[tag] = nil
            case 6: // deleteManifest (prefer an existing one)
                let existing = model.manifests[repo, default: [:]].keys.sorted()
                let target = existing.isEmpty || pick(4) == 0 ? d : existing[pick(existing.count)]
                let known = model.manifests[repo]?[target] != nil
                _ = try check(known ? nil : .manifestUnknown) { try t.store.deleteManifest(repository: repo, digest: target, now: now) }
                if known {
                    model.manifests[repo]?[target] = nil
                    model.tags[repo] = model.tags[repo]?.filter { $0.value != target }
                }
            case 7:
                try t.reopen()
            default: // GC: remove if zero-ref
                let got = try check(nil) { try t.store.removeBlob(d, ifZeroSince: now) }
                let removable = model.blobs[d] != nil && model.refcount(d) == 0
                guard got == removable else { throw Mismatch(description: "\(desc): removeBlob returned \(String(describing: got))") }
                if removable {
                    model.blobs[d] = nil
                    for r in model.links.keys { model.links[r]?.remove(d) }
                }
            }
            try compare(t.store, model, desc)
        }
    }

    static func compare(_ store: MetaStore, _ model: MetaModel, _ desc: String) throws {
        func fail(_ what: String) -> Mismatch { Mismatch(description: "\(desc): \(what)") }
        for d in digests {
            let rec = try store.blob(d)
            guard (rec != nil) == (model.blobs[d] != nil) else { throw fail("existence of \(d)") }
            if let rec {
                let expected = model.refcount(d)
                guard rec.refcount == expected else { throw fail("refcount of \(d): \(rec.refcount) vs model \(expected)") }
                guard (rec.zeroedAt == 0) == (expected > 0) else { throw fail("zeroedAt of \(d)") }
            }
        }
        let repos = model.repositories
        guard try store.repositories(after: nil, limit: nil) == repos else {
            throw fail("repositories \(try store.repositories(after: nil, limit: nil)) vs \(repos)")
        }
        for repo in Self.repos {
            let expectedTags: [String]? = repos.contains(repo)
                ? model.tags[repo, default: [:]].keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } : nil
            guard try store.tags(repository: repo, after: nil, limit: nil) == expectedTags else { throw fail("tags of \(repo)") }
            for tag in tagNames {
                guard try store.resolveTag(repository: repo, tag: tag) == model.tags[repo]?[tag] else {
                    throw fail("resolveTag \(repo):\(tag)")
                }
            }
            for (m, _) in model.manifests[repo, default: [:]] {
                guard try store.manifest(repository: repo, digest: m) != nil else { throw fail("manifest \(m) missing") }
            }
            let subjects = Set(model.manifests[repo, default: [:]].values.compactMap(\.subject)).union([digests[0]])
            for s in subjects {
                let expected = model.manifests[repo, default: [:]]
                    .filter { $0.value.subject == s }
                    .map { Referrer(digest: $0.key, mediaType: imageType, size: $0.value.size, artifactType: $0.value.artifactType, annotations: nil) }
                    .sorted { $0.digest < $1.digest }
                guard try store.referrers(repository: repo, subject: s, artifactType: nil) == expected else {
                    throw fail("referrers of \(s) in \(repo)")
                }
                guard try store.referrers(repository: repo, subject: s, artifactType: "sig") == expected.filter({ $0.artifactType == "sig" }) else {
                    throw fail("sig referrers of \(s) in \(repo)")
                }
            }
        }
    }
}
