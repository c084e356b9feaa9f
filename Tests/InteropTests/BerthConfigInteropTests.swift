// config.yml's `berth:` block (and `http.debug`) through a real `regctl
// serve`: the values ServerSettings / TLSSetup map are set away from their
// defaults and observed taking effect (not covered: tlsreloadinterval, and
// berth.metadata's map sizes, which show only when the LMDB map fills): limits refuse just past the configured
// size and not below it, each connection timer closes inside its own window
// (the defaults are 30 s and more), blobs land in the storage root as
// smallblobthreshold and compression say, the debug address serves metrics, and the
// GC policy collects an untagged manifest and its blobs within seconds
// (defaults: untagged manifests are kept, grace 24 h, one pass a minute).
// The grace period is 5 s, not 0: a pushed blob no manifest references yet
// is collectable after its grace, and the manifest PUT must come first.

import BerthTestSupport
import Foundation
import Testing

@Suite("berth: block end to end", .serialized, .timeLimit(.minutes(5)),
       .enabled(if: RegistryProcess.Kind.underTest == .regctl, "berth: is Berth's own block; distribution refuses it"))
struct BerthConfigInteropTests {
    static let idle = 1.0, header = 4.0, stall = 7.0
    /// Client and scheduler latency allowed past a timer; windows never overlap.
    static let slack = 2.5

    static func config(debugPort: Int) -> String {
        """
        version: 0.1
        storage:
          filesystem:
            rootdirectory: ./storage
          delete:
            enabled: true
        http:
          addr: 127.0.0.1:5000
          debug:
            addr: 127.0.0.1:\(debugPort)
            prometheus:
              enabled: true
              path: /berth-metrics
        berth:
          smallblobthreshold: 1024
          compression: false
          gc:
            graceperiod: 5s
            deleteuntagged: true
            untaggeddelay: 0s
            interval: 200ms
          limits:
            manifestmaxsize: 2048
            maxuploadsessions: 2
            maxuploadsize: 4096
            maxheaderbytes: 2048
            maxrequestline: 512
            idletimeout: \(Int(idle * 1000))ms
            headertimeout: \(Int(header * 1000))ms
            bodystalltimeout: \(Int(stall * 1000))ms

        """
    }

    /// A server started from the config file; the environment sets only the port and root.
    static func withServer(_ body: (RegistryProcess, _ debugPort: Int) throws -> Void) throws {
        let work = try TemporaryDirectory("berth-config")
        let debugPort = try Loopback.freePort()
        let file = work.path("config.yml")
        try config(debugPort: debugPort).write(to: file, atomically: true, encoding: .utf8)
        let server = try RegistryProcess.start(configFile: file)
        defer { server.stop() }
        do {
            try body(server, debugPort)
        } catch {
            throw InteropError("\(error)\n--- log (tail) ---\n\(server.log.suffix(3000))")
        }
    }

    static func code(_ r: HTTPResponse) -> String? {
        ((try? r.json())?["errors"] as? [[String: Any]])?.first?["code"] as? String
    }

    /// `body` written to a file for curl's --data-binary.
    static func send(_ method: String, _ url: String, body: Data, contentType: String = "application/octet-stream",
                     in work: TemporaryDirectory) throws -> HTTPResponse {
        let file = work.path(UUID().uuidString)
        try body.write(to: file)
        return try HTTPProbe.request(method: method, url: url, headers: ["Content-Type": contentType],
                                     curlOptions: ["--data-binary", "@\(file.path)"])
    }

    @Test("manifestmaxsize, maxuploadsessions, maxuploadsize, maxheaderbytes, maxrequestline")
    func limits() throws {
        try Self.withServer { server, _ in
            let work = try TemporaryDirectory("berth-limits")
            let base = server.baseURL
            let manifests = "\(base)/v2/limits/app/manifests/v1"
            let tooBig = try Self.send("PUT", manifests, body: Data(repeating: 0x20, count: 2049),
                                       contentType: "application/vnd.oci.image.manifest.v1+json", in: work)
            #expect(tooBig.status == 413 && Self.code(tooBig) == "MANIFEST_INVALID", "\(tooBig.status)")
            let fits = try Self.send("PUT", manifests, body: Data(repeating: 0x20, count: 2048),
                                     contentType: "application/vnd.oci.image.manifest.v1+json", in: work)
            #expect(fits.status == 400 && Self.code(fits) == "MANIFEST_INVALID", "2048 bytes are parsed: \(fits.status)")

            let uploads = "\(base)/v2/limits/app/blobs/uploads/"
            var sessions: [String] = []
            for _ in 0..<2 {
                let r = try HTTPProbe.request(method: "POST", url: uploads)
                #expect(r.status == 202)
                sessions.append(try #require(r.header("Location")))
            }
            let third = try HTTPProbe.request(method: "POST", url: uploads)
            #expect(third.status == 429 && Self.code(third) == "TOO_MANY_REQUESTS", "\(third.status)")
            let url = { (location: String) in location.hasPrefix("/") ? base + location : location }
            for s in sessions { #expect(try HTTPProbe.request(method: "DELETE", url: url(s)).status == 204) }

            let over = try #require(HTTPProbe.request(method: "POST", url: uploads).header("Location"))
            let overPatch = try Self.send("PATCH", url(over), body: Data(repeating: 1, count: 4097), in: work)
            #expect(overPatch.status == 413 && Self.code(overPatch) == "SIZE_INVALID", "\(overPatch.status)")
            _ = try HTTPProbe.request(method: "DELETE", url: url(over))   // cleanup; the session may be gone already
            let under = try #require(HTTPProbe.request(method: "POST", url: uploads).header("Location"))
            let underPatch = try Self.send("PATCH", url(under), body: Data(repeating: 1, count: 4096), in: work)
            #expect(underPatch.status == 202, "4096 bytes fit: \(underPatch.status)")

            let bigHeader = try HTTPProbe.request(url: "\(base)/v2/", headers: ["X-Pad": String(repeating: "a", count: 2100)])
            #expect(bigHeader.status == 431)
            let header = try HTTPProbe.request(url: "\(base)/v2/", headers: ["X-Pad": String(repeating: "a", count: 1500)])
            #expect(header.status == 200)

            let longLine = try HTTPProbe.request(url: "\(base)/v2/limits/app/tags/list?pad=" + String(repeating: "x", count: 520))
            #expect(longLine.status == 414)
            let line = try HTTPProbe.request(url: "\(base)/v2/limits/app/tags/list?pad=" + String(repeating: "x", count: 400))
            #expect(line.status == 404 && Self.code(line) == "NAME_UNKNOWN", "\(line.status)")
        }
    }

    @Test("idletimeout, headertimeout and bodystalltimeout each close a connection inside their own window")
    func timeouts() throws {
        try Self.withServer { server, _ in
            let cases: [(name: String, timeout: Double, request: String?, answered: Bool)] = [
                ("idle keep-alive", Self.idle, "GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n", true),
                ("silent connection", Self.header, nil, false),
                ("stalled body", Self.stall,
                 "POST /v2/t/app/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789", false),
            ]
            let results = Results(count: cases.count)
            let port = server.port
            DispatchQueue.concurrentPerform(iterations: cases.count) { i in
                results.set(i, Result {
                    let start = Date()
                    let socket = try RawSocket(port: port)
                    if let request = cases[i].request { try socket.write(request) }
                    let text = try socket.readUntilClosed(timeout: cases[i].timeout + Self.slack + 5)
                    return (text, Date().timeIntervalSince(start))
                })
            }
            for (i, c) in cases.enumerated() {
                let (text, elapsed) = try results.get(i)
                #expect(elapsed >= c.timeout, "\(c.name): closed after \(elapsed) s, before \(c.timeout) s")
                #expect(elapsed <= c.timeout + Self.slack, "\(c.name): closed after \(elapsed) s, configured \(c.timeout) s")
                #expect(c.answered ? text.hasPrefix("HTTP/1.1 200 OK") : text.isEmpty, "\(c.name): \(text)")
            }
        }
    }

    @Test("http.debug serves metrics at its address and path; the GC policy collects an untagged manifest and its blobs")
    func debugAndGC() throws {
        try Self.withServer { server, debugPort in
            let work = try TemporaryDirectory("berth-gc")
            let base = server.baseURL
            func pushBlob(_ text: String) throws -> String {
                let data = Data(text.utf8)
                let digest = try SHA256.digest(of: data)
                let r = try Self.send("POST", "\(base)/v2/gc/app/blobs/uploads/?digest=\(digest)", body: data, in: work)
                #expect(r.status == 201, "push \(text): \(r.status)")
                return digest
            }
            func pushImage(_ seed: String) throws -> (manifest: String, layer: String) {
                let config = "{\"seed\":\"\(seed)\"}"
                let c = try pushBlob(config), l = try pushBlob("layer-\(seed)")
                let manifest = Data(("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                    + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"\(c)\",\"size\":\(config.utf8.count)},"
                    + "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"\(l)\",\"size\":\("layer-\(seed)".utf8.count)}]}").utf8)
                let put = try Self.send("PUT", "\(base)/v2/gc/app/manifests/v1", body: manifest,
                                        contentType: "application/vnd.oci.image.manifest.v1+json", in: work)
                #expect(put.status == 201, "manifest \(seed): \(put.status)")
                return (try SHA256.digest(of: manifest), l)
            }
            let old = try pushImage("old")
            let new = try pushImage("new")   // moves v1: "old" is untagged now

            func status(_ path: String) throws -> Int {
                try HTTPProbe.request(method: "HEAD", url: "\(base)/v2/gc/app/\(path)",
                                      headers: ["Accept": "application/vnd.oci.image.manifest.v1+json"]).status
            }
            // Polling the manifest is harmless; polling the blobs is not (a
            // HEAD of a zero-ref blob restarts its grace period), so their
            // collection is read from the collector's log line, then checked once.
            let deadline = Date().addingTimeInterval(30)
            func collected() -> [String] {
                server.log.split(whereSeparator: \.isNewline).map(String.init).filter { $0.contains("garbage collected") }
            }
            while try status("manifests/\(old.manifest)") != 404
                // The old manifest's own bytes, its config and its layer; the new image shares none.
                || !collected().contains(where: { $0.contains("blobs=3 ") }) {
                guard Date() < deadline else {
                    Issue.record("untagged manifest or its three blobs not collected within 30 s: \(collected())")
                    break
                }
                usleep(100_000)
            }
            #expect(try status("blobs/\(old.layer)") == 404)
            #expect(try status("manifests/v1") == 200)
            #expect(try status("manifests/\(new.manifest)") == 200)
            #expect(try status("blobs/\(new.layer)") == 200)

            let metrics = try HTTPProbe.request(url: "http://127.0.0.1:\(debugPort)/berth-metrics")
            #expect(metrics.status == 200)
            #expect(String(decoding: metrics.body, as: UTF8.self).contains("berth_http_requests_total"))
            #expect(try HTTPProbe.request(url: "http://127.0.0.1:\(debugPort)/metrics").status == 404,
                    "the configured path, not the default")
        }
    }

    @Test("smallblobthreshold and compression: where and how blob bytes land in the storage root")
    func storageOptions() throws {
        try Self.withServer { server, _ in
            let work = try TemporaryDirectory("berth-storage")
            let packs = server.directory.appendingPathComponent("storage/packs")
            func packFiles() throws -> [URL] {
                try FileManager.default.contentsOfDirectory(at: packs, includingPropertiesForKeys: nil)
                    .filter { $0.pathExtension == "pack" }
            }
            func push(_ data: Data) throws {
                let digest = try SHA256.digest(of: data)
                let r = try Self.send("POST", "\(server.baseURL)/v2/storage/app/blobs/uploads/?digest=\(digest)", body: data, in: work)
                #expect(r.status == 201, "\(r.status)")
            }
            // 1000 bytes of one repeated phrase: LZ4 would shrink it to a fraction.
            let small = Data(String(repeating: "berth-compression-probe;", count: 42).utf8.prefix(1000))
            try push(small)
            let before = try packFiles().count
            // 1025 bytes: one past the threshold (default 1 MiB) gets a dedicated pack.
            try push(Data((0..<1025).map { UInt8(truncatingIfNeeded: $0 &* 7) }))
            #expect(try packFiles().count == before + 1, "a blob over smallblobthreshold gets its own pack")
            try push(Data((0..<1024).map { UInt8(truncatingIfNeeded: $0 &* 11) }))
            #expect(try packFiles().count == before + 1, "a blob at smallblobthreshold goes to the shared pack")
            // compression: false stores the repetitive blob verbatim.
            let verbatim = try packFiles().contains { try Data(contentsOf: $0).range(of: small) != nil }
            #expect(verbatim, "compression: false, yet the blob's bytes are not in any pack as written")
        }
    }
}

/// Results of the concurrent timeout probes, one slot each.
private final class Results: @unchecked Sendable {   // slots only under `lock`
    private let lock = NSLock()
    private var slots: [Result<(String, Double), any Error>?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<(String, Double), any Error>) { lock.withLock { slots[i] = r } }
    func get(_ i: Int) throws -> (String, Double) {
        guard let r = lock.withLock({ slots[i] }) else { throw InteropError("probe \(i) did not run") }
        return try r.get()
    }
}
