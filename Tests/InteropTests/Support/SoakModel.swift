/// What the server acknowledged to one client: its manifests per repository,
/// its tags, and which referrers belong to which subject. Every manifest is
/// unique to its client (labels name the client) and every tag carries the
/// client's prefix, so this is exact: nobody else can move these tags or
/// delete these manifests, except the collector, whose rules
/// (GarbageCollector invariant 2, IncrementalCollector) `expectedSurvivors`
/// replays.
///
/// Thread safety: none; owned by one worker, read by the test after joining it.
struct SoakModel {
    struct Entry {
        let repo: String
        let manifest: SoakManifest
        var present = true
        /// Tagged at least once: the server queued it for review when it lost its last tag.
        var everTagged = false
        /// Queued by the collector's cascade (its index or subject was collected).
        var cascadeQueued = false
        /// Pushed as an index child: never tagged, never a repoint target.
        var isChild = false
    }

    private(set) var entries: [String: Entry] = [:]
    /// repo -> tag -> digest.
    private(set) var tags: [String: [String: String]] = [:]
    /// key of subject -> referrer digests.
    private(set) var referrersOf: [String: [String]] = [:]
    /// Images pushed per repository, for re-pointing tags at older manifests.
    private(set) var images: [String: [SoakManifest]] = [:]

    static func key(_ repo: String, _ digest: String) -> String { "\(repo)@\(digest)" }

    func entry(_ repo: String, _ digest: String) -> Entry? { entries[Self.key(repo, digest)] }

    func isTagged(_ repo: String, _ digest: String) -> Bool { tags[repo]?.values.contains(digest) ?? false }

    func hasReferrers(_ repo: String, _ digest: String) -> Bool { !(referrersOf[Self.key(repo, digest)] ?? []).isEmpty }

    /// Present referrers of the manifest, in push order.
    func referrers(_ repo: String, _ digest: String) -> [SoakManifest] {
        (referrersOf[Self.key(repo, digest)] ?? []).compactMap { d in
            entries[Self.key(repo, d)].flatMap { $0.present ? $0.manifest : nil }
        }
    }

    /// A 201 for `m` in `repo`, under `tag` if given.
    mutating func acknowledged(_ m: SoakManifest, in repo: String, tag: String?, child: Bool = false) {
        let k = Self.key(repo, m.digest)
        var e = entries[k] ?? Entry(repo: repo, manifest: m)
        if !e.present { e.cascadeQueued = false }  // recreated: a fresh manifest to the server
        e.present = true
        e.isChild = e.isChild || child
        if entries[k] == nil {
            if m.kind == .image && !child { images[repo, default: []].append(m) }
            if let s = m.subject { referrersOf[Self.key(repo, s), default: []].append(m.digest) }
        }
        if let tag {
            e.everTagged = true
            tags[repo, default: [:]][tag] = m.digest
        }
        entries[k] = e
    }

    mutating func tagDeleted(_ tag: String, in repo: String) {
        tags[repo]?[tag] = nil
    }

    /// DELETE by digest answered 202: gone with its tags; its children and
    /// referrers stay (the server queues nothing for them).
    mutating func deletedByClient(_ digest: String, in repo: String) {
        entries[Self.key(repo, digest)]?.present = false
        tags[repo] = tags[repo]?.filter { $0.value != digest }
    }

    /// DELETE by digest answered 404 for an untagged manifest: the collector
    /// took it first and queued its children and referrers.
    mutating func collectedBeforeDelete(_ digest: String, in repo: String) {
        guard let e = entries[Self.key(repo, digest)] else { return }
        entries[Self.key(repo, digest)]?.present = false
        cascade(from: e)
    }

    private mutating func cascade(from e: Entry) {
        let related = e.manifest.children.map(\.digest) + (referrersOf[Self.key(e.repo, e.manifest.digest)] ?? [])
        for d in related where entries[Self.key(e.repo, d)]?.present == true {
            entries[Self.key(e.repo, d)]?.cascadeQueued = true
        }
    }

    /// The manifests the collector must leave once it has caught up, and the
    /// ones that must be gone (collected, or deleted by the client): replays
    /// its queue (manifests that lost their last tag, plus the cascade) until
    /// nothing queued is unkept.
    func expectedSurvivors() -> (kept: [Entry], gone: [Entry]) {
        var model = self
        while true {
            var doomed: [Entry] = []
            for repo in Set(model.entries.values.map(\.repo)) {
                let kept = model.keptDigests(repo)
                for e in model.entries.values where e.repo == repo && e.present && !kept.contains(e.manifest.digest) {
                    let queued = e.cascadeQueued || (e.everTagged && !model.isTagged(repo, e.manifest.digest))
                    if queued { doomed.append(e) }
                }
            }
            if doomed.isEmpty { break }
            for e in doomed {
                model.entries[Self.key(e.repo, e.manifest.digest)]?.present = false
                model.cascade(from: e)
            }
        }
        let kept = model.entries.values.filter(\.present)
        let gone = model.entries.values.filter { !$0.present }
        return (kept, gone)
    }

    /// GarbageCollector invariant 2 over this client's manifests of `repo`:
    /// tagged, children of kept indexes, referrers of kept manifests.
    func keptDigests(_ repo: String) -> Set<String> {
        var keep = Set<String>()
        var work = tags[repo].map { Array($0.values) } ?? []
        while let d = work.popLast() {
            guard let e = entries[Self.key(repo, d)], e.present, keep.insert(d).inserted else { continue }
            work += e.manifest.children.map(\.digest)
            work += referrersOf[Self.key(repo, d)] ?? []
        }
        return keep
    }
}
