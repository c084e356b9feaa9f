// Retention: which tags and untagged manifests a policy lets go, modelled
// on zot's retention. Per repository the first policy whose repository
// matcher accepts it applies; a repository no policy matches is untouched.
// Under a policy, a tag is kept when some `keepTags` rule keeps it: the tag
// matches one of the rule's patterns and — when the rule names criteria —
// satisfies at least one (among the N most recently pushed / pulled of the
// tags that rule's patterns match, pushed / pulled within a duration); a
// rule without criteria keeps every tag it matches; a policy without rules
// keeps every tag. Every other tag is deleted. With `deleteUntagged`,
// manifests untagged (and kept by nothing: index, subject, history
// protection) for longer than `untaggedDelay` are deleted too.
//
// Thread safety: the plan is read from one read transaction per
// repository; each deletion is its own write transaction that re-checks
// what the plan saw (the tag still names the digest; the manifest is still
// unkept since before the delay), so a push racing the pass wins.
// Invariants:
//   1. A dry run returns exactly the decisions a real run with the same
//      store state and clock applies (the plan is made first, from the same
//      snapshot, in both).
//   2. A deleted tag's manifest becomes untagged and waits for the
//      untagged policy like any other; the same pass does not delete it.

/// One `keepTags` rule.
public struct RetentionKeepRule: Sendable {
    /// For reasons ("keepTags[0]").
    public var name: String
    public var matches: @Sendable (String) -> Bool
    public var mostRecentlyPushedCount: Int?
    public var mostRecentlyPulledCount: Int?
    public var pushedWithin: UInt64?
    public var pulledWithin: UInt64?

    public init(name: String, matches: @escaping @Sendable (String) -> Bool, mostRecentlyPushedCount: Int? = nil,
                mostRecentlyPulledCount: Int? = nil, pushedWithin: UInt64? = nil, pulledWithin: UInt64? = nil) {
        self.name = name
        self.matches = matches
        self.mostRecentlyPushedCount = mostRecentlyPushedCount
        self.mostRecentlyPulledCount = mostRecentlyPulledCount
        self.pushedWithin = pushedWithin
        self.pulledWithin = pulledWithin
    }

    var hasCriteria: Bool {
        mostRecentlyPushedCount != nil || mostRecentlyPulledCount != nil || pushedWithin != nil || pulledWithin != nil
    }
}

public struct RetentionPolicy: Sendable {
    public var name: String
    public var matches: @Sendable (String) -> Bool
    public var keepTags: [RetentionKeepRule]
    public var deleteUntagged: Bool
    public var untaggedDelay: UInt64

    public init(name: String, matches: @escaping @Sendable (String) -> Bool, keepTags: [RetentionKeepRule],
                deleteUntagged: Bool = false, untaggedDelay: UInt64 = 86_400) {
        self.name = name
        self.matches = matches
        self.keepTags = keepTags
        self.deleteUntagged = deleteUntagged
        self.untaggedDelay = untaggedDelay
    }
}

/// What retention deletes (or, dry, would), and why.
public struct RetentionDecision: Sendable, Equatable, CustomStringConvertible {
    public let repository: String
    /// nil: an untagged manifest.
    public let tag: String?
    public let digest: BlobDigest
    public let reason: String

    public var description: String {
        if let tag { return "delete tag \(repository):\(tag) (\(digest)): \(reason)" }
        return "delete untagged manifest \(repository)@\(digest): \(reason)"
    }
}

extension Store {
    /// Plans with `policies` at the store's clock; unless `dryRun`, applies
    /// the plan (each step re-checked). Returns the decisions applied (dry:
    /// planned). Pending pull times are written first.
    public func applyRetention(_ policies: [RetentionPolicy], dryRun: Bool) throws -> [RetentionDecision] {
        try checkOpen()
        if !dryRun { try checkWritable() }
        if !options.readOnly { try meta.flushPulls() }
        let now = self.now
        // Each decision with the untagged cutoff of its policy (untagged ones).
        var plan: [(decision: RetentionDecision, unkeptBefore: UInt64)] = []
        for repository in try meta.allRepositories() {
            guard let policy = policies.first(where: { $0.matches(repository) }) else { continue }
            let snapshot = try meta.retentionSnapshot(repository: repository, now: now)
            plan += Self.tagDecisions(repository, policy, snapshot.tags, now: now).map { ($0, 0) }
            if policy.deleteUntagged {
                let cutoff = now - min(now, policy.untaggedDelay)
                for m in snapshot.unkept where m.unkeptAt + policy.untaggedDelay <= now {
                    plan.append((RetentionDecision(repository: repository, tag: nil, digest: m.digest,
                                                   reason: "\(policy.name): untagged since \(m.unkeptAt), more than \(policy.untaggedDelay) s"),
                                 cutoff))
                }
            }
        }
        guard !dryRun else { return plan.map(\.decision) }
        try failpoint(.retentionAfterPlan)
        var applied: [RetentionDecision] = []
        for (d, cutoff) in plan {
            let done = try d.tag.map { try meta.deleteTag(repository: d.repository, tag: $0, ifAt: d.digest, now: now) }
                ?? meta.deleteUntaggedManifest(repository: d.repository, digest: d.digest, now: now, requeueAt: cutoff)
            if done { applied.append(d) }
        }
        return applied
    }

    static func tagDecisions(_ repository: String, _ policy: RetentionPolicy, _ tags: [MetaStore.RetentionTag],
                             now: UInt64) -> [RetentionDecision] {
        guard !policy.keepTags.isEmpty else { return [] }
        var kept = Set<String>()
        var matchedBy: [String: [String]] = [:]
        for rule in policy.keepTags {
            let candidates = tags.filter { rule.matches($0.tag) }
            for c in candidates { matchedBy[c.tag, default: []].append(rule.name) }
            guard rule.hasCriteria else { kept.formUnion(candidates.map(\.tag)); continue }
            if let n = rule.mostRecentlyPushedCount {
                let byPush = candidates.sorted { ($0.pushed, $0.tag) > ($1.pushed, $1.tag) }
                kept.formUnion(byPush.prefix(n).map(\.tag))
            }
            if let n = rule.mostRecentlyPulledCount {
                let byPull = candidates.filter { $0.pulled != nil }.sorted { ($0.pulled!, $0.tag) > ($1.pulled!, $1.tag) }
                kept.formUnion(byPull.prefix(n).map(\.tag))
            }
            if let d = rule.pushedWithin { kept.formUnion(candidates.filter { $0.pushed + d >= now }.map(\.tag)) }
            if let d = rule.pulledWithin { kept.formUnion(candidates.filter { $0.pulled.map { $0 + d >= now } ?? false }.map(\.tag)) }
        }
        return tags.filter { !kept.contains($0.tag) }.map { t in
            let reason = matchedBy[t.tag].map { "\(policy.name): matches \($0.joined(separator: ", ")) but meets none of their criteria" }
                ?? "\(policy.name): matches no keepTags pattern"
            return RetentionDecision(repository: repository, tag: t.tag, digest: t.digest, reason: reason)
        }
    }
}

extension Store {
    /// Notes a pull of the tag now (MetaStore+Pulls: no write; the next
    /// flush records it). Does nothing on a read-only store.
    public func recordPull(repository: String, tag: String) {
        guard !options.readOnly else { return }
        meta.notePull(repository: repository, tag: tag, at: now)
    }

    /// Writes the noted pulls (the online collector's pass, retention, close).
    public func flushPulls() throws {
        try checkWritable()
        try meta.flushPulls()
    }

    /// When the tag was last pulled, counting pulls not yet flushed; nil: never.
    public func lastPulled(repository: String, tag: String) throws -> UInt64? {
        try checkOpen()
        let repo = try MetaKey.name(repository, "repository")
        let t = try MetaKey.name(tag, "tag")
        let pending = meta.pendingPulls.withLock { $0[MetaKey.repoTag(repo, t)] }
        let stored = try meta.env.read { txn in try meta.pulledAt(txn, repo, t) }
        return [pending, stored].compactMap { $0 }.max()
    }
}
