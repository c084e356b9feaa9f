import BerthTestSupport
import Foundation

/// One client of the soak and crash suites: the push and pull flows over a
/// `RawHTTPClient`, what this client saw the server acknowledge, and what it
/// found wrong.
///
/// "Saw" is precise: a blob is sighted in a repository when a HEAD answered
/// 200, an upload 201 or a mount 201, at the moment the request was sent.
/// The server promises (DESIGN.md, GC invariant 3) to keep a sighted blob for
/// a full grace period; `window` is that period minus the engine's whole-second
/// clock and a margin. A push refused with BLOB_UNKNOWN/MANIFEST_BLOB_UNKNOWN
/// whose answer arrived within the window of every blob it names is a
/// violation; one that arrived later is only counted as expired.
///
/// Thread safety: none; each session belongs to one thread.
final class SoakSession {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let name: String
    var client: RawHTTPClient
    var rng: SplitMix64
    let window: TimeInterval
    private(set) var sightings: [String: [String: Date]] = [:]
    private(set) var anywhere: [String: Date] = [:]
    /// Last operations, for failure reports.
    private(set) var recent: [String] = []
    private(set) var violations: [String] = []
    var counters = Counters()

    struct Counters {
        var operations = 0
        var requests = 0
        var blobsUploaded = 0
        var dedupeHits = 0
        var mounts = 0
        var mountFallbacks = 0
        var manifestsAcked = 0
        var tagsAcked = 0
        var expired = 0
        var checks = 0
        var lost = 0

        mutating func add(_ o: Counters) {
            operations += o.operations; requests += o.requests; blobsUploaded += o.blobsUploaded
            dedupeHits += o.dedupeHits; mounts += o.mounts; mountFallbacks += o.mountFallbacks
            manifestsAcked += o.manifestsAcked; tagsAcked += o.tagsAcked; expired += o.expired
            checks += o.checks; lost += o.lost
        }
    }

    init(name: String, port: Int, seed: UInt64, window: TimeInterval) {
        self.name = name
        self.client = RawHTTPClient(port: port)
        self.rng = SplitMix64(seed: seed)
        self.window = window
    }

    func note(_ line: String) {
        recent.append("\(String(format: "%.3f", Date().timeIntervalSince1970)) \(name) #\(counters.operations) \(line)")
        if recent.count > 60 { recent.removeFirst(recent.count - 60) }
    }

    func violation(_ what: String) {
        violations.append("\(name): \(what)\n    last operations:\n      " + recent.suffix(25).joined(separator: "\n      "))
    }

    func clearViolations() { violations.removeAll() }

    func lost(_ what: String) {
        counters.lost += 1
        violation("LOST: " + what)
    }

    func request(_ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = []) throws -> RawHTTPClient.Response {
        counters.requests += 1
        let r = try client.send(method, target, headers: headers, body: body)
        if r.status >= 500 {
            violation("\(method) \(target) answered \(r.status): \(String(decoding: r.body.prefix(300), as: UTF8.self))")
        }
        return r
    }

    private func unexpected(_ what: String, _ r: RawHTTPClient.Response) -> Failure {
        Failure(description: "\(name): \(what) answered \(r.status) \(r.errorCode ?? ""): \(String(decoding: r.body.prefix(300), as: UTF8.self))")
    }

    private func sight(_ digest: String, in repo: String, at time: Date) {
        sightings[repo, default: [:]][digest] = time
        anywhere[digest] = max(anywhere[digest] ?? .distantPast, time)
    }

    /// Sighted in `repo` (nil: anywhere) so recently that the server must still have it.
    func withinWindow(_ digest: String, in repo: String?, now: Date) -> Bool {
        guard let seen = lastSighting(digest, in: repo) else { return false }
        return now.timeIntervalSince(seen) < window
    }

    /// When the blob was last sighted in `repo` (nil: in any repository).
    func lastSighting(_ digest: String, in repo: String?) -> Date? {
        if let repo { return sightings[repo]?[digest] }
        return anywhere[digest]
    }

    /// A repository other than `repo` where the blob was sighted most recently.
    private func mountSource(for digest: String, besides repo: String) -> String? {
        sightings.compactMap { r, seen -> (String, Date)? in
            guard r != repo, let t = seen[digest] else { return nil }
            return (r, t)
        }.max { $0.1 < $1.1 }?.0
    }

    // MARK: Blobs

    /// HEAD-first dedupe: HEAD the blob, skip the upload if 200; otherwise a
    /// cross-repository mount (where sighted), an anonymous mount, or an
    /// upload (monolithic, POST+PUT, or chunked PATCHes).
    func ensureBlob(_ blob: SoakBlob, in repo: String, allowMounts: Bool = true) throws {
        let t0 = Date()
        let head = try request("HEAD", "/v2/\(repo)/blobs/\(blob.digest)")
        if head.status == 200 {
            counters.dedupeHits += 1
            sight(blob.digest, in: repo, at: t0)
            return
        }
        guard head.status == 404 else { throw unexpected("HEAD blob \(blob.digest) in \(repo)", head) }
        let choice = Int.random(in: 0..<100, using: &rng)
        var session: String? = nil
        if allowMounts, choice < 20, let from = mountSource(for: blob.digest, besides: repo) {
            session = try mount(blob, into: repo, from: from, at: t0)
            if session == nil { return }
        } else if allowMounts, choice < 30, anywhere[blob.digest] != nil {
            session = try mount(blob, into: repo, from: nil, at: t0)
            if session == nil { return }
        }
        try upload(blob, into: repo, session: session, style: Int.random(in: 0..<3, using: &rng))
    }

    /// Returns nil when mounted, else the upload session the server opened instead.
    private func mount(_ blob: SoakBlob, into repo: String, from: String?, at t0: Date) throws -> String? {
        let query = "mount=\(blob.digest)" + (from.map { "&from=\($0)" } ?? "")
        let r = try request("POST", "/v2/\(repo)/blobs/uploads/?\(query)")
        if r.status == 201 {
            counters.mounts += 1
            sight(blob.digest, in: repo, at: t0)
            note("mount \(blob.digest.suffix(12)) into \(repo) from \(from ?? "<any>"): 201")
            return nil
        }
        guard r.status == 202, let location = r.header("location") else { throw unexpected("mount \(blob.digest) into \(repo)", r) }
        counters.mountFallbacks += 1
        note("mount \(blob.digest.suffix(12)) into \(repo) from \(from ?? "<any>"): 202")
        if withinWindow(blob.digest, in: from, now: Date()) {
            violation("mount of \(blob.digest) into \(repo) from \(from ?? "<any repository>") was declined (202) although it was sighted there \(String(format: "%.2f", Date().timeIntervalSince(lastSighting(blob.digest, in: from) ?? Date()))) s before")
        }
        return Self.path(of: location)
    }

    static func path(of location: String) -> String {
        guard location.hasPrefix("http://") || location.hasPrefix("https://"),
              let slash = location.dropFirst(8).firstIndex(of: "/") else { return location }
        return String(location[slash...])
    }

    static func appending(_ query: String, to path: String) -> String {
        path + (path.contains("?") ? "&" : "?") + query
    }

    /// style 0: monolithic POST ?digest=; 1: POST then PUT with the body;
    /// 2: POST, two or three PATCHes with Content-Range, PUT ?digest=.
    func upload(_ blob: SoakBlob, into repo: String, session given: String? = nil, style: Int) throws {
        let t0 = Date()
        var location = given ?? ""
        if location.isEmpty && style == 0 {
            let r = try request("POST", "/v2/\(repo)/blobs/uploads/?digest=\(blob.digest)",
                                headers: [("Content-Type", "application/octet-stream")], body: blob.bytes)
            guard r.status == 201 else { throw unexpected("monolithic upload of \(blob.digest) to \(repo)", r) }
            return uploaded(blob, repo, t0, "monolithic")
        }
        if location.isEmpty {
            let r = try request("POST", "/v2/\(repo)/blobs/uploads/")
            guard r.status == 202, let l = r.header("location") else { throw unexpected("POST upload in \(repo)", r) }
            location = Self.path(of: l)
        }
        var body = blob.bytes
        if style == 2 && blob.bytes.count >= 3 {
            let cuts = [0, blob.bytes.count / 3, 2 * blob.bytes.count / 3, blob.bytes.count]
            for i in 0..<3 where cuts[i] < cuts[i + 1] {
                let r = try request("PATCH", location, headers: [("Content-Type", "application/octet-stream"),
                                                                 ("Content-Range", "\(cuts[i])-\(cuts[i + 1] - 1)")],
                                    body: Array(blob.bytes[cuts[i]..<cuts[i + 1]]))
                guard r.status == 202, let l = r.header("location") else { throw unexpected("PATCH \(location)", r) }
                location = Self.path(of: l)
            }
            body = []
        }
        let r = try request("PUT", Self.appending("digest=\(blob.digest)", to: location),
                            headers: [("Content-Type", "application/octet-stream")], body: body)
        guard r.status == 201 else { throw unexpected("PUT upload of \(blob.digest) to \(repo)", r) }
        uploaded(blob, repo, t0, style == 2 ? "chunked" : "put")
    }

    private func uploaded(_ blob: SoakBlob, _ repo: String, _ t0: Date, _ how: String) {
        counters.blobsUploaded += 1
        sight(blob.digest, in: repo, at: t0)
        note("upload \(blob.digest.suffix(12)) (\(blob.bytes.count) B, \(how)) to \(repo)")
    }

    // MARK: Manifests

    enum PutOutcome { case acknowledged, expired }

    /// PUT under `reference` (a tag, or the digest). A refusal naming unknown
    /// blobs is a violation unless a sighting it relies on is out of its window.
    func putManifest(_ m: SoakManifest, in repo: String, reference: String, reliesOn: [String]) throws -> PutOutcome {
        let r = try request("PUT", "/v2/\(repo)/manifests/\(reference)", headers: [("Content-Type", m.mediaType)], body: m.bytes)
        if r.status == 201 {
            guard r.header("docker-content-digest") == m.digest else { throw unexpected("PUT manifest \(m.digest) digest header", r) }
            counters.manifestsAcked += 1
            if !reference.hasPrefix("sha256:") { counters.tagsAcked += 1 }
            note("put \(kindName(m)) \(m.digest.suffix(12)) as \(repo):\(reference.suffix(20)): 201")
            return .acknowledged
        }
        let code = r.errorCode ?? ""
        guard ["MANIFEST_BLOB_UNKNOWN", "BLOB_UNKNOWN", "MANIFEST_UNKNOWN"].contains(code) else {
            throw unexpected("PUT manifest \(repo):\(reference)", r)
        }
        let now = Date()
        let stale = reliesOn.filter { !withinWindow($0, in: repo, now: now) }
        note("put \(kindName(m)) \(m.digest.suffix(12)) as \(repo):\(reference.suffix(20)): \(r.status) \(code) (\(stale.count) sightings out of window)")
        if stale.isEmpty {
            violation("PUT \(repo):\(reference) (\(m.digest)) refused with \(code) although every blob it names was sighted within \(window) s: \(String(decoding: r.body.prefix(300), as: UTF8.self))")
        }
        counters.expired += 1
        return .expired
    }

    func kindName(_ m: SoakManifest) -> String {
        switch m.kind { case .image: "image"; case .index: "index"; case .referrer: "referrer" }
    }

    /// Blobs first (HEAD-first), then the manifest. An index's children must
    /// have been pushed (`pushedChild`) first.
    func push(_ m: SoakManifest, in repo: String, reference: String) throws -> PutOutcome {
        for blob in m.blobs { try ensureBlob(blob, in: repo) }
        return try putManifest(m, in: repo, reference: reference, reliesOn: m.blobs.map(\.digest) + m.children.map(\.digest))
    }

    /// A child manifest pushed by digest and never tagged is never queued for
    /// review: the server must keep it for good, so its sighting never expires.
    func pushedChild(_ child: SoakManifest, in repo: String) {
        sight(child.digest, in: repo, at: .distantFuture)
    }

    // MARK: Pulls

    /// GET the manifest by `reference` and check it is `m`, byte for byte.
    func checkManifest(_ m: SoakManifest, in repo: String, reference: String, what: String) throws -> Bool {
        counters.checks += 1
        let r = try request("GET", "/v2/\(repo)/manifests/\(reference)",
                            headers: [("Accept", "\(SoakManifest.imageType), \(SoakManifest.indexType)")])
        guard r.status == 200 else {
            lost("\(what): GET \(repo):\(reference) answered \(r.status) \(r.errorCode ?? ""), expected \(m.digest)")
            return false
        }
        guard r.header("docker-content-digest") == m.digest, SHA256.digest(r.body) == m.digest else {
            lost("\(what): GET \(repo):\(reference) served \(r.header("docker-content-digest") ?? "?"), expected \(m.digest)")
            return false
        }
        return true
    }

    func checkBlob(_ blob: SoakBlob, in repo: String, what: String) throws {
        counters.checks += 1
        let r = try request("GET", "/v2/\(repo)/blobs/\(blob.digest)")
        guard r.status == 200 else {
            return lost("\(what): GET blob \(blob.digest) in \(repo) answered \(r.status) \(r.errorCode ?? "")")
        }
        if SHA256.digest(r.body) != blob.digest { lost("\(what): blob \(blob.digest) in \(repo) served other bytes") }
    }

    /// The whole closure of `m`: children, configs, layers, and (exactly) the
    /// referrers the model expects.
    func checkClosure(_ m: SoakManifest, in repo: String, reference: String, referrers: [SoakManifest], what: String) throws {
        guard try checkManifest(m, in: repo, reference: reference, what: what) else { return }
        for child in m.children {
            guard try checkManifest(child, in: repo, reference: child.digest, what: "\(what), child") else { continue }
            for b in child.blobs { try checkBlob(b, in: repo, what: "\(what), child \(child.digest.suffix(12))") }
        }
        for b in m.blobs { try checkBlob(b, in: repo, what: what) }
        counters.checks += 1
        let r = try request("GET", "/v2/\(repo)/referrers/\(m.digest)")
        guard r.status == 200, let object = try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any],
              let list = object["manifests"] as? [[String: Any]] else {
            return lost("\(what): referrers of \(m.digest) answered \(r.status)")
        }
        let served = Set(list.compactMap { $0["digest"] as? String })
        let expected = Set(referrers.map(\.digest))
        if served != expected {
            lost("\(what): referrers of \(m.digest) are \(served.sorted()), expected \(expected.sorted())")
        }
        for ref in referrers {
            guard try checkManifest(ref, in: repo, reference: ref.digest, what: "\(what), referrer") else { continue }
            for b in ref.blobs { try checkBlob(b, in: repo, what: "\(what), referrer \(ref.digest.suffix(12))") }
        }
    }
}
