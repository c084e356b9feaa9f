import BerthTestSupport
import Foundation
import Synchronization

/// Where the server of the crash suite listens now: nil while it is dead or
/// being checked. Clients read it before each operation, so no operation
/// begun before a kill reaches the restarted server (a restart takes a new
/// port).
final class CrashEndpoint: Sendable {
    private let state = Mutex<(port: Int, generation: Int)?>(nil)
    private let stopped = Mutex(false)

    func publish(port: Int, generation: Int) { state.withLock { $0 = (port, generation) } }
    func withdraw() { state.withLock { $0 = nil } }
    func stop() { stopped.withLock { $0 = true } }
    var isStopped: Bool { stopped.withLock { $0 } }

    /// Blocks until a server is published (nil once stopped).
    func waitForServer() -> (port: Int, generation: Int)? {
        while !isStopped {
            if let s = state.withLock({ $0 }) { return s }
            usleep(10_000)
        }
        return nil
    }
}

/// Everything the server acknowledged to the crash suite's clients.
struct CrashLedger: Sendable {
    struct Pushed: Sendable {
        let repo: String
        let tag: String
        let manifest: SoakManifest
    }

    var pushed: [Pushed] = []
    /// repo -> tag -> last acknowledged digest.
    var tags: [String: [String: String]] = [:]
    /// Digests PUT under a tag since its last acknowledgement: a PUT cut off
    /// by the kill may or may not have been applied.
    var unsettled: [String: [String: Set<String>]] = [:]
    /// Chunked uploads completed with 201.
    var blobs: [(repo: String, blob: SoakBlob)] = []
    var problems: [String] = []
    var resumed = 0
    var sessionsAcrossKills = 0
    /// Completing PUTs cut off after the session was consumed (see ChunkedResumer).
    var commitsCutOff = 0
    /// Pushes that met a dead server (the kill, or the restart after it).
    var interrupted = 0
    var counters = SoakSession.Counters()
}

/// The ledger, shared by the clients and the test.
final class CrashLedgerBox: @unchecked Sendable {
    // Sendable by hand: `ledger` is only touched under `lock`.
    private let lock = NSLock()
    private var ledger = CrashLedger()

    @discardableResult
    func withLock<T>(_ body: (inout CrashLedger) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&ledger)
    }
}

/// Pushes images (shared and unique layers, every upload style) under its
/// own tags until stopped, recording acknowledgements in the ledger.
///
/// Thread safety: `@unchecked Sendable` because one thread runs it; the test
/// reads only the ledger (behind its Mutex).
final class CrashPusher: @unchecked Sendable {
    let id: Int
    let endpoint: CrashEndpoint
    let ledger: CrashLedgerBox
    let pool: LayerPool
    private var session: SoakSession
    private var generation = -1
    private var counter = 0

    init(id: Int, seed: UInt64, endpoint: CrashEndpoint, ledger: CrashLedgerBox, pool: LayerPool) {
        self.id = id
        self.endpoint = endpoint
        self.ledger = ledger
        self.pool = pool
        // No collection during the crash suite (24 h grace): nothing sighted may vanish.
        session = SoakSession(name: "p\(id)", port: 0, seed: seed, window: 86_400)
    }

    func run() {
        while let (port, gen) = endpoint.waitForServer().map({ ($0.port, $0.generation) }) {
            if gen != generation {
                session.client = RawHTTPClient(port: port)
                generation = gen
            }
            counter += 1
            let repo = "crash/r\((id + counter) % 2)"  // both repositories: mounts between them
            let tag = "p\(id)-t\(counter % 4)"
            var layers = [pool.layers[Int.random(in: 0..<pool.layers.count, using: &session.rng)]]
            layers.append(SoakBlob(session.rng.bytes(Int.random(in: 100...30_000, using: &session.rng))))
            let m = SoakManifest.image(label: "p\(id)-\(counter)-\(session.rng.next())", layers: layers)
            do {
                for b in m.blobs { try session.ensureBlob(b, in: repo) }
                ledger.withLock { $0.unsettled[repo, default: [:]][tag, default: []].insert(m.digest) }
                if try session.putManifest(m, in: repo, reference: tag, reliesOn: m.blobs.map(\.digest)) == .acknowledged {
                    ledger.withLock {
                        $0.pushed.append(.init(repo: repo, tag: tag, manifest: m))
                        $0.tags[repo, default: [:]][tag] = m.digest
                        $0.unsettled[repo]?[tag] = nil
                    }
                }
            } catch is RawHTTPClient.TransportError {
                ledger.withLock { $0.interrupted += 1 }  // killed mid-push: unacknowledged
                continue
            } catch {
                ledger.withLock { $0.problems.append("\(error)") }
            }
            session.counters.operations += 1
            flush()
        }
        flush()
    }

    private func flush() {
        let (counters, violations) = (session.counters, session.violations)
        ledger.withLock {
            $0.counters.add(counters)
            $0.problems += violations
        }
        session.counters = .init()
        session.clearViolations()
    }
}

/// Uploads large blobs in 64 KiB PATCHes with Content-Range. When the server
/// dies mid-upload it asks the restarted server where the session stands
/// (GET the upload: 204 with Range) and continues from there; the session
/// must have survived with at least every acknowledged byte.
///
/// Thread safety: as CrashPusher.
final class ChunkedResumer: @unchecked Sendable {
    let endpoint: CrashEndpoint
    let ledger: CrashLedgerBox
    private var client = RawHTTPClient(port: 0)
    private var generation = -1
    static let repo = "crash/chunked"
    static let chunk = 65_536

    private var blob: SoakBlob?
    private var location: String?
    private var acked = 0
    private var needsStatus = false
    /// The completing PUT was sent and not answered: the session may be gone
    /// because the blob was committed.
    private var committing = false

    /// Hashed before the traffic starts (hashing in a debug build is slow:
    /// a kill should find an open session, not a client busy hashing).
    private let contents: [SoakBlob]
    private var uploads = 0

    init(seed: UInt64, endpoint: CrashEndpoint, ledger: CrashLedgerBox) {
        self.endpoint = endpoint
        self.ledger = ledger
        var rng = SplitMix64(seed: seed)
        contents = (0..<8).map { _ in SoakBlob(rng.bytes(Int.random(in: 200_000...400_000, using: &rng))) }
    }

    private func problem(_ text: String) { ledger.withLock { $0.problems.append("chunked upload: \(text)") } }

    func run() {
        while let (port, gen) = endpoint.waitForServer().map({ ($0.port, $0.generation) }) {
            if gen != generation {
                client = RawHTTPClient(port: port)
                generation = gen
                needsStatus = location != nil
            }
            do {
                try step()
            } catch is RawHTTPClient.TransportError {
                continue
            } catch {
                problem("\(error)")
                location = nil
            }
        }
    }

    private func step() throws {
        // Later rounds upload the same contents again: commits that dedupe.
        let blob = self.blob ?? contents[uploads % contents.count]
        self.blob = blob
        guard let location else {
            let r = try client.send("POST", "/v2/\(Self.repo)/blobs/uploads/")
            guard r.status == 202, let l = r.header("location") else { return problem("POST answered \(r.status)") }
            self.location = SoakSession.path(of: l)
            acked = 0
            return
        }
        var offset = acked
        if needsStatus {
            let r = try client.send("GET", location)
            needsStatus = false
            ledger.withLock { $0.sessionsAcrossKills += 1 }
            if r.status == 404 && committing {
                committing = false
                let head = try client.send("HEAD", "/v2/\(Self.repo)/blobs/\(blob.digest)")
                self.location = nil
                self.blob = nil
                uploads += 1
                if head.status == 200 { return }  // committed before the kill, unacknowledged
                // Killed between the upload file's rename into a pack and the
                // index commit: recovery drops the session, the pack is an
                // orphan. Nothing acknowledged is lost (no 201 was sent); the
                // upload starts over.
                ledger.withLock { $0.commitsCutOff += 1 }
                return
            }
            committing = false
            guard r.status == 204, let range = r.header("range"), let end = Int(range.split(separator: "-").last ?? "") else {
                self.location = nil
                return problem("the session \(location) acknowledged with \(acked) bytes did not survive the restart: GET answered \(r.status) \(r.errorCode ?? "")")
            }
            offset = end == 0 && acked == 0 ? 0 : end + 1
            guard offset >= acked, offset <= blob.bytes.count else {
                self.location = nil
                return problem("after the restart the session reports \(offset) bytes, \(acked) were acknowledged")
            }
            ledger.withLock { $0.resumed += 1 }
        }
        if offset < blob.bytes.count {
            let end = min(offset + Self.chunk, blob.bytes.count)
            let r = try client.send("PATCH", location, headers: [("Content-Type", "application/octet-stream"),
                                                                 ("Content-Range", "\(offset)-\(end - 1)")],
                                    body: Array(blob.bytes[offset..<end]))
            guard r.status == 202, r.header("range") == "0-\(end - 1)", let l = r.header("location") else {
                self.location = nil
                return problem("PATCH \(offset)-\(end - 1) answered \(r.status) Range \(r.header("range") ?? "-")")
            }
            self.location = SoakSession.path(of: l)
            acked = end
            return
        }
        committing = true
        let r = try client.send("PUT", SoakSession.appending("digest=\(blob.digest)", to: location))
        committing = false
        guard r.status == 201 else {
            self.location = nil
            return problem("PUT of the completed upload answered \(r.status) \(r.errorCode ?? "")")
        }
        ledger.withLock { $0.blobs.append((Self.repo, blob)) }
        uploads += 1
        self.blob = nil
        self.location = nil
    }
}
