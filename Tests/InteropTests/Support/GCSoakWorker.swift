import BerthTestSupport
import Foundation

/// One client of the GC concurrency soak: a seeded mix of the bug report's
/// flows (shared-layer pushes with HEAD-first dedupe, mounts, re-pointed tags,
/// beta -> latest -> archive promotion (Berth's extension, compare-and-swap) and rollback, indexes, referrers, tag
/// and manifest deletes), in its own tags of shared repositories, checking
/// every closure it was acknowledged at checkpoints.
///
/// Thread safety: `@unchecked Sendable` because the test hands the worker to
/// exactly one thread and reads it only after joining that thread.
final class GCSoakWorker: @unchecked Sendable {
    let id: Int
    let session: SoakSession
    let pool: LayerPool
    let repositories: [String]
    var model = SoakModel()
    private var counter = 0
    /// Unexpected answers (not refusals the window allows): failures.
    private(set) var errors: [String] = []

    var name: String { session.name }

    init(id: Int, port: Int, seed: UInt64, window: TimeInterval, pool: LayerPool, sharedRepositories: [String]) {
        self.id = id
        self.session = SoakSession(name: "c\(id)", port: port, seed: seed, window: window)
        self.pool = pool
        self.repositories = sharedRepositories + ["soak/own-c\(id)"]
    }

    func tag(_ suffix: String) -> String { "\(name)-\(suffix)" }

    /// Runs operations until `deadline` or `maxOperations`.
    func run(until deadline: Date, maxOperations: Int, checkpointEvery: Int = 20) {
        while Date() < deadline && session.counters.operations < maxOperations {
            do {
                try step()
                session.counters.operations += 1
                if session.counters.operations % checkpointEvery == 0 { try checkpoint() }
            } catch {
                errors.append("\(error)\n    last operations:\n      " + session.recent.suffix(15).joined(separator: "\n      "))
                if errors.count > 20 { return }
            }
        }
    }

    private func label() -> String {
        counter += 1
        return "\(name)-\(counter)-\(session.rng.next() % 1_000_000)"
    }

    private func pick<T>(_ items: [T]) -> T? {
        items.isEmpty ? nil : items[Int.random(in: 0..<items.count, using: &session.rng)]
    }

    private func newImage() -> SoakManifest {
        var layers = (0..<Int.random(in: 1...3, using: &session.rng)).map { _ in pick(pool.layers)! }
        if Bool.random(using: &session.rng) {
            layers.append(SoakBlob(session.rng.bytes(Int.random(in: 16...3_000, using: &session.rng))))
        }
        return .image(label: label(), layers: layers)
    }

    private func step() throws {
        let repo = pick(repositories)!
        let roll = Int.random(in: 0..<100, using: &session.rng)
        switch roll {
        case 0..<28: try pushImage(repo, tag: tag(pick(["t0", "t1", "t2", "beta"])!))
        case 28..<38: try pushIndex(repo, tag: tag(pick(["t0", "t1", "t2", "beta"])!))
        case 38..<50: try repoint(repo)
        case 50..<60: try promote(repo)
        case 60..<65: try rollback(repo)
        case 65..<76: try pushReferrer(repo)
        case 76..<86: try deleteTag(repo)
        default: try deleteManifest(repo)
        }
    }

    private func pushImage(_ repo: String, tag: String) throws {
        let m = newImage()
        if try session.push(m, in: repo, reference: tag) == .acknowledged { model.acknowledged(m, in: repo, tag: tag) }
    }

    /// Children by digest first, then the index under the tag.
    private func pushIndex(_ repo: String, tag: String) throws {
        let children = (0..<Int.random(in: 2...3, using: &session.rng)).map { _ in newImage() }
        for child in children {
            let t0 = Date()
            guard try session.push(child, in: repo, reference: child.digest) == .acknowledged else { return }
            model.acknowledged(child, in: repo, tag: nil, child: true)
            session.pushedChild(child, in: repo, at: t0)
        }
        let index = SoakManifest.index(label: label(), children: children)
        if try session.push(index, in: repo, reference: tag) == .acknowledged { model.acknowledged(index, in: repo, tag: tag) }
    }

    /// A tag to an older image, by its bytes, re-uploading what HEAD no longer
    /// finds. Images with referrers are never resurrected: whether the
    /// collector took their referrers in between is unknowable.
    private func repoint(_ repo: String) throws {
        let candidates = (model.images[repo] ?? []).filter { !model.hasReferrers(repo, $0.digest) }
        guard let m = pick(candidates) else { return try pushImage(repo, tag: tag("t0")) }
        let t = tag(pick(["t0", "t1", "t2"])!)
        session.note("repoint \(repo):\(t) to \(m.digest.suffix(12))")
        if try session.push(m, in: repo, reference: t) == .acknowledged { model.acknowledged(m, in: repo, tag: t) }
    }

    /// Moves an acknowledged tag's manifest to another tag by PUTting its
    /// bytes: the manifest is tagged, so the server must accept it.
    private func copyTag(_ from: String, to: String, in repo: String) throws {
        guard let d = model.tags[repo]?[tag(from)], let e = model.entry(repo, d) else { return }
        if try session.putManifest(e.manifest, in: repo, reference: tag(to), reliesOn: []) == .acknowledged {
            model.acknowledged(e.manifest, in: repo, tag: tag(to))
        }
    }

    /// Berth's promotion extension, compare-and-swap on what the model
    /// says (this client's tags are its own: a 409 is a lost update).
    private func promote(_ repo: String) throws {
        let chain = ["beta", "latest", "archive"].map(tag)
        guard let beta = model.tags[repo]?[chain[0]] else { return }
        var expect = [chain[0]: beta]
        if let latest = model.tags[repo]?[chain[1]] { expect[chain[1]] = latest }
        let body = try JSONSerialization.data(withJSONObject: ["chain": chain, "expect": expect], options: [.sortedKeys])
        let r = try session.request("POST", "/v2/\(repo)/_berth/tags/promote", headers: [("Content-Type", "application/json")],
                                    body: Array(body))
        session.note("promote beta -> latest -> archive in \(repo): \(r.status)")
        guard r.status == 200 else {
            session.violation("promotion in \(repo) with expect \(expect) answered \(r.status): \(String(decoding: r.body.prefix(300), as: UTF8.self))")
            return
        }
        let tags = ((try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any])?["tags"] as? [String: String] ?? [:]
        for t in chain {
            guard let d = tags[t] else { continue }
            guard let e = model.entry(repo, d) else {
                session.violation("promotion in \(repo) named \(d) for \(t), which this client never pushed")
                continue
            }
            model.acknowledged(e.manifest, in: repo, tag: t)
        }
    }

    private func rollback(_ repo: String) throws {
        session.note("rollback latest <- archive in \(repo)")
        try copyTag("archive", to: "latest", in: repo)
    }

    private func pushReferrer(_ repo: String) throws {
        let tagged = Set(model.tags[repo]?.values.map { $0 } ?? [])
        guard let subject = pick(tagged.sorted()).flatMap({ model.entry(repo, $0) }) else { return }
        let r = SoakManifest.referrer(label: label(), subject: subject.manifest)
        if try session.push(r, in: repo, reference: r.digest) == .acknowledged { model.acknowledged(r, in: repo, tag: nil) }
    }

    private func deleteTag(_ repo: String) throws {
        guard let (t, d) = pick((model.tags[repo] ?? [:]).sorted { $0.key < $1.key }).map({ ($0.key, $0.value) }) else { return }
        let r = try session.request("DELETE", "/v2/\(repo)/manifests/\(t)")
        session.note("delete tag \(repo):\(t) (\(d.suffix(12))): \(r.status)")
        if r.status == 202 {
            model.tagDeleted(t, in: repo)
        } else {
            session.lost("DELETE of acknowledged tag \(repo):\(t) (-> \(d)) answered \(r.status) \(r.errorCode ?? "")")
        }
    }

    private func deleteManifest(_ repo: String) throws {
        let candidates = model.entries.values.filter {
            $0.repo == repo && $0.present && !$0.isChild && $0.manifest.kind != .referrer
        }.map(\.manifest.digest).sorted()
        guard let d = pick(candidates) else { return }
        let tagged = model.isTagged(repo, d)
        let r = try session.request("DELETE", "/v2/\(repo)/manifests/\(d)")
        session.note("delete manifest \(repo)@\(d.suffix(12)) (tagged: \(tagged)): \(r.status)")
        switch r.status {
        case 202, 404 where !tagged: model.deleted(d, in: repo)
        default: session.lost("DELETE of acknowledged manifest \(repo)@\(d) (tagged: \(tagged)) answered \(r.status) \(r.errorCode ?? "")")
        }
    }

    /// Every acknowledged tag of this client resolves to what was
    /// acknowledged, with its whole closure, and the tag list agrees.
    func checkpoint() throws {
        for repo in repositories {
            let mine = model.tags[repo] ?? [:]
            for (t, d) in mine.sorted(by: { $0.key < $1.key }) {
                guard let e = model.entry(repo, d) else { continue }
                try session.checkClosure(e.manifest, in: repo, reference: t, referrers: model.referrers(repo, d),
                                         what: "checkpoint \(repo):\(t)")
            }
            session.counters.checks += 1
            let r = try session.request("GET", "/v2/\(repo)/tags/list")
            if r.status == 404 && mine.isEmpty { continue }
            guard r.status == 200, let object = try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any] else {
                session.lost("tags/list of \(repo) answered \(r.status)")
                continue
            }
            let served = Set(((object["tags"] as? [String]) ?? []).filter { $0.hasPrefix("\(name)-") })
            if served != Set(mine.keys) {
                session.lost("tags/list of \(repo) has \(served.sorted()) of mine, acknowledged \(mine.keys.sorted())")
            }
        }
    }
}
