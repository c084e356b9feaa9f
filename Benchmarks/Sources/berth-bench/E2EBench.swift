// End-to-end benchmarks: Berth (`regctl serve`) against CNCF distribution
// 2.8.2 (Debian's docker-registry), both on loopback with equivalent configs,
// the same workloads against both in one run, alternating which goes first.
//   1. 512 MiB blob push (POST + monolithic PUT) and pull (GET), 1 and 4 streams
//   2. small-image push, 32 clients (config + 2 x 4 KiB layers + manifest)
//   3. manifest GET by tag and blob HEAD with wrk (2 threads, 32 connections)
//   4. tag listing of 10,000 tags: n=100 pages following Link, and n=10000
//   5. server CPU-seconds per GB / per 1,000 requests, peak RSS
// Client-side monotonic time; medians of repetitions; ratio = Berth / distribution.

import CASEngine
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct SharedBuffer: @unchecked Sendable {
    let p: UnsafeMutableRawBufferPointer
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(p) }
}

final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ v: T) { value = v }
    func with<R>(_ body: (inout T) -> R) -> R { lock.lock(); defer { lock.unlock() }; return body(&value) }
}

struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func fill(_ p: UnsafeMutableRawBufferPointer) {
        let words = p.count / 8
        let w = p.baseAddress!.bindMemory(to: UInt64.self, capacity: words)
        for i in 0..<words { w[i] = next() }
        for i in (words * 8)..<p.count { p[i] = UInt8(truncatingIfNeeded: next()) }
    }
    mutating func bytes(_ n: Int) -> [UInt8] {
        var a = [UInt8](repeating: 0, count: n)
        a.withUnsafeMutableBytes { fill($0) }
        return a
    }
}

struct Row {
    let section: String
    let name: String
    let unit: String
    let berth: Double
    let dist: Double
    let higherIsBetter: Bool
}

/// Registry API operations shared by the workloads.
enum API {
    static let manifestType = "application/vnd.oci.image.manifest.v1+json"

    static func path(fromLocation loc: String) -> String {
        if loc.hasPrefix("http://") || loc.hasPrefix("https://") {
            let afterScheme = loc[loc.index(loc.firstIndex(of: "/")!, offsetBy: 2)...]
            if let slash = afterScheme.firstIndex(of: "/") { return String(afterScheme[slash...]) }
        }
        return loc
    }

    static func appendQuery(_ path: String, _ q: String) -> String {
        path + (path.contains("?") ? "&" : "?") + q
    }

    /// POST then one monolithic PUT with the whole body.
    static func pushBlobPostPut(_ c: HTTPConn, repo: String, body: UnsafeRawBufferPointer, digest: String) throws {
        let r = try c.request("POST", "/v2/\(repo)/blobs/uploads/")
        guard r.status == 202, let loc = r.header("Location") else { throw E2EError("POST upload: \(r.status) \(String(decoding: r.body, as: UTF8.self))") }
        let put = try c.request("PUT", appendQuery(path(fromLocation: loc), "digest=\(digest)"),
                                headers: [("Content-Type", "application/octet-stream")], body: body)
        guard put.status == 201 else { throw E2EError("PUT upload: \(put.status) \(String(decoding: put.body, as: UTF8.self))") }
    }

    /// Single-request monolithic POST ?digest= (OCI "MAY"); false if the server
    /// answered 202 (unsupported: it opened a session instead).
    static func pushBlobMonolithic(_ c: HTTPConn, repo: String, body: UnsafeRawBufferPointer, digest: String) throws -> Bool {
        let r = try c.request("POST", "/v2/\(repo)/blobs/uploads/?digest=\(digest)",
                              headers: [("Content-Type", "application/octet-stream")], body: body)
        if r.status == 201 { return true }
        if r.status == 202 { return false }
        throw E2EError("POST ?digest=: \(r.status) \(String(decoding: r.body, as: UTF8.self))")
    }

    static func pushBlob(_ c: HTTPConn, repo: String, _ body: [UInt8], monolithic: Bool) throws -> String {
        let digest = BlobDigest.compute(body, .sha256).description
        try body.withUnsafeBytes { b in
            if monolithic {
                guard try pushBlobMonolithic(c, repo: repo, body: b, digest: digest) else { throw E2EError("monolithic POST refused") }
            } else {
                try pushBlobPostPut(c, repo: repo, body: b, digest: digest)
            }
        }
        return digest
    }

    static func manifest(config: String, configSize: Int, layers: [(String, Int)]) -> [UInt8] {
        let ls = layers.map {
            "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"\($0.0)\",\"size\":\($0.1)}"
        }.joined(separator: ",")
        return Array("""
        {"schemaVersion":2,"mediaType":"\(manifestType)","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(config)","size":\(configSize)},"layers":[\(ls)]}
        """.utf8)
    }

    static func putManifest(_ c: HTTPConn, repo: String, tag: String, _ m: [UInt8]) throws {
        let r = try m.withUnsafeBytes {
            try c.request("PUT", "/v2/\(repo)/manifests/\(tag)", headers: [("Content-Type", manifestType)], body: $0)
        }
        guard r.status == 201 else { throw E2EError("PUT manifest \(repo):\(tag): \(r.status) \(String(decoding: r.body, as: UTF8.self))") }
    }

    static func config(_ rng: inout SplitMix) -> [UInt8] {
        var pad = ""
        while pad.count < 900 { pad += String(rng.next(), radix: 16) }
        return Array("""
        {"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","BENCH=\(pad)"]},"rootfs":{"type":"layers","diff_ids":[]}}
        """.utf8)
    }

    /// Pushes config + 2 x 4 KiB unique layers + manifest by tag; returns the manifest.
    @discardableResult
    static func pushImage(_ c: HTTPConn, repo: String, tag: String, rng: inout SplitMix, monolithic: Bool) throws -> [UInt8] {
        let cfg = config(&rng)
        let l1 = rng.bytes(4096), l2 = rng.bytes(4096)
        let cd = try pushBlob(c, repo: repo, cfg, monolithic: monolithic)
        let d1 = try pushBlob(c, repo: repo, l1, monolithic: monolithic)
        let d2 = try pushBlob(c, repo: repo, l2, monolithic: monolithic)
        let m = manifest(config: cd, configSize: cfg.count, layers: [(d1, 4096), (d2, 4096)])
        try putManifest(c, repo: repo, tag: tag, m)
        return m
    }
}

final class E2EBench: @unchecked Sendable {
    let workDir: String
    let berthBinary: String
    let distBinary: String
    let reps: Int
    let blobSize: Int
    let seconds: Int
    let tagCount: Int
    var rows: [Row] = []
    var notes: [String] = []
    var servers: [ServerUnderTest] = []
    var monolithic: [String: Bool] = [:]
    let nonce = UInt64(DispatchTime.now().uptimeNanoseconds)

    /// `quick`: a smoke run of the harness (small sizes, short phases); not for figures.
    init(workDir: String, berthBinary: String, distBinary: String, quick: Bool = false) {
        reps = quick ? 1 : 3
        blobSize = quick ? 16 << 20 : 512 << 20
        seconds = quick ? 2 : 10
        tagCount = quick ? 500 : 10_000
        self.workDir = workDir
        self.berthBinary = berthBinary
        self.distBinary = distBinary
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    func log(_ s: String) {
        FileHandle.standardError.write(Data(("[e2e] " + s + "\n").utf8))
    }

    /// Servers in the order for repetition `rep` (alternating who goes first).
    func order(_ rep: Int) -> [ServerUnderTest] { rep % 2 == 0 ? servers : servers.reversed() }

    func add(_ section: String, _ name: String, _ unit: String, _ values: [String: Double], higher: Bool = true) {
        rows.append(Row(section: section, name: name, unit: unit, berth: values["berth"] ?? 0, dist: values["distribution"] ?? 0, higherIsBetter: higher))
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let started = E2EBench.now()
        _ = try? Measure.run("/bin/rm", ["-rf", workDir])
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        log("work dir \(workDir); starting servers")
        let b = try ServerUnderTest.berth(binary: berthBinary, workDir: workDir)
        let d: ServerUnderTest
        do { d = try ServerUnderTest.distribution(binary: distBinary, workDir: workDir) } catch { b.stop(); throw error }
        servers = [b, d]
        defer {
            for s in servers { s.stop() }
            fflush(nil)
            // rm -rf: Foundation's removeItem takes minutes on distribution's many small files.
            _ = try? Measure.run("/bin/rm", ["-rf", workDir])
        }
        for s in servers {
            monolithic[s.name] = try probeMonolithic(s)
            log("\(s.name): pid \(s.pid), port \(s.port), monolithic POST ?digest= \(monolithic[s.name]! ? "supported" : "not supported (POST + PUT used)")")
        }
        // BERTH_E2E_PHASES=blobs,small,wrk,tags runs a subset (diagnostics only).
        let phases = Set((ProcessInfo.processInfo.environment["BERTH_E2E_PHASES"] ?? "blobs,small,wrk,tags").split(separator: ",").map(String.init))
        if phases.contains("blobs") { try largeBlobs() }
        if phases.contains("small") { try smallImages() }
        if phases.contains("wrk") { try wrkPhase() }
        if phases.contains("tags") { try tagListing() }
        var rss: [String: Double] = [:]
        for s in servers {
            guard s.process.isRunning else { throw E2EError("\(s.name) died") }
            rss[s.name] = s.peakRSS()
        }
        add("5", "peak RSS (VmHWM) at end", "MiB", rss, higher: false)
        printTable(elapsed: E2EBench.now() - started)
    }

    func probeMonolithic(_ s: ServerUnderTest) throws -> Bool {
        let c = HTTPConn(port: s.port)
        var rng = SplitMix(state: nonce ^ 0x51)
        let probe = rng.bytes(64)
        let digest = BlobDigest.compute(probe, .sha256).description
        return try probe.withUnsafeBytes { try API.pushBlobMonolithic(c, repo: "bench/probe", body: $0, digest: digest) }
    }

    // MARK: 1. large blobs

    func stamp(_ buf: SharedBuffer, _ values: [UInt64]) -> String {
        let w = buf.p.baseAddress!.bindMemory(to: UInt64.self, capacity: values.count + 1)
        w[0] = nonce
        for (i, v) in values.enumerated() { w[i + 1] = v }
        return BlobDigest.compute(buf.bytes, .sha256).description
    }

    func largeBlobs() throws {
        log("1. large blobs: generating 4 x \(blobSize >> 20) MiB random")
        var rng = SplitMix(state: nonce)
        let bufs = (0..<4).map { _ in
            let p = UnsafeMutableRawBufferPointer.allocate(byteCount: blobSize, alignment: 4096)
            rng.fill(p)
            return SharedBuffer(p: p)
        }
        defer { for b in bufs { b.p.deallocate() } }

        // per server: [phase: [MB/s]] and CPU seconds / bytes per phase
        var mbps: [String: [String: [Double]]] = [:]
        var cpu: [String: [String: Double]] = [:]
        var bytes: [String: [String: Double]] = [:]
        func record(_ s: ServerUnderTest, _ phase: String, _ n: Int, _ body: () throws -> Void) rethrows {
            let c0 = s.cpuSeconds()
            let t0 = E2EBench.now()
            try body()
            let t = E2EBench.now() - t0
            let c = s.cpuSeconds() - c0
            mbps[s.name, default: [:]][phase, default: []].append(Double(n) / 1e6 / t)
            cpu[s.name, default: [:]][phase, default: 0] += c
            bytes[s.name, default: [:]][phase, default: 0] += Double(n)
            log("   \(s.name) \(phase): " + String(format: "%.1f MB/s (%.2f CPU-s)", Double(n) / 1e6 / t, c))
        }

        for rep in 0..<reps {
            log(" rep \(rep + 1)/\(reps): hashing")
            let digest = stamp(bufs[0], [UInt64(rep), 1])
            for s in order(rep) {
                let c = HTTPConn(port: s.port, bufferSize: 1 << 20)
                let repo = "bench/large"
                try record(s, "push1", blobSize) { try API.pushBlobPostPut(c, repo: repo, body: bufs[0].bytes, digest: digest) }
                try record(s, "pull1", blobSize) {
                    let r = try c.request("GET", "/v2/\(repo)/blobs/\(digest)", keepBody: false)
                    guard r.status == 200, r.bodyLength == blobSize else { throw E2EError("GET blob: \(r.status), \(r.bodyLength) bytes") }
                }
            }
            let digests = (0..<4).map { i in stamp(bufs[i], [UInt64(rep), 4, UInt64(i)]) }
            for s in order(rep + 1) {
                let errors = Locked<[String]>([])
                let port = s.port
                try record(s, "push4", 4 * blobSize) {
                    Measure.onThreads(4) { i in
                        do {
                            let c = HTTPConn(port: port, bufferSize: 1 << 20)
                            try API.pushBlobPostPut(c, repo: "bench/large\(i)", body: bufs[i].bytes, digest: digests[i])
                        } catch { errors.with { $0.append("\(error)") } }
                    }
                    if let e = errors.with({ $0.first }) { throw E2EError("push4: \(e)") }
                }
                let size = blobSize
                try record(s, "pull4", 4 * blobSize) {
                    Measure.onThreads(4) { i in
                        do {
                            let c = HTTPConn(port: port, bufferSize: 1 << 20)
                            let r = try c.request("GET", "/v2/bench/large\(i)/blobs/\(digests[i])", keepBody: false)
                            guard r.status == 200, r.bodyLength == size else { throw E2EError("GET blob: \(r.status), \(r.bodyLength) bytes") }
                        } catch { errors.with { $0.append("\(error)") } }
                    }
                    if let e = errors.with({ $0.first }) { throw E2EError("pull4: \(e)") }
                }
            }
        }
        let names = ["push1": "\(blobSize >> 20) MiB blob push, 1 stream", "pull1": "\(blobSize >> 20) MiB blob pull, 1 stream",
                     "push4": "\(blobSize >> 20) MiB blob push, 4 streams (aggregate)", "pull4": "\(blobSize >> 20) MiB blob pull, 4 streams (aggregate)"]
        for phase in ["push1", "push4", "pull1", "pull4"] {
            add("1", names[phase]!, "MB/s", mbps.mapValues { Measure.median($0[phase] ?? []) })
        }
        for kind in ["push", "pull"] {
            var v: [String: Double] = [:]
            for s in servers {
                let c = (cpu[s.name]?[kind + "1"] ?? 0) + (cpu[s.name]?[kind + "4"] ?? 0)
                let n = (bytes[s.name]?[kind + "1"] ?? 0) + (bytes[s.name]?[kind + "4"] ?? 0)
                v[s.name] = c / (n / 1e9)
            }
            add("5", "server CPU per GB, large \(kind) (1+4 streams)", "CPU-s/GB", v, higher: false)
        }
    }

    // MARK: 2. small images, 32 clients

    func smallImages(clients: Int = 32) throws {
        let seconds = Double(self.seconds)
        log("2. small-image push: \(clients) clients x \(Int(seconds)) s, \(reps) reps")
        var rates: [String: [Double]] = [:]
        var cpuPerImage: [String: [Double]] = [:]
        for rep in 0..<reps {
            for s in order(rep) {
                let port = s.port
                let mono = monolithic[s.name] ?? false
                let count = Locked(0)
                let errors = Locked<[String]>([])
                let nonce = self.nonce
                let c0 = s.cpuSeconds()
                let t0 = E2EBench.now()
                let deadline = t0 + seconds
                Measure.onThreads(clients) { i in
                    var rng = SplitMix(state: nonce &+ UInt64(rep * 1000 + i) &* 0x1000_0001)
                    let c = HTTPConn(port: port, bufferSize: 64 << 10)
                    var n = 0
                    do {
                        while E2EBench.now() < deadline {
                            try API.pushImage(c, repo: "bench/small\(i)", tag: "r\(rep)-\(n)", rng: &rng, monolithic: mono)
                            n += 1
                        }
                    } catch { errors.with { $0.append("\(error)") } }
                    count.with { $0 += n }
                }
                let t = E2EBench.now() - t0
                let cpu = s.cpuSeconds() - c0
                if let e = errors.with({ $0.first }) { throw E2EError("\(s.name) small push: \(e)") }
                let images = count.with { $0 }
                rates[s.name, default: []].append(Double(images) / t)
                cpuPerImage[s.name, default: []].append(cpu * 1000 / Double(images))
                log("   \(s.name): " + String(format: "%d images in %.2f s = %.1f images/s (%.2f CPU-s)", images, t, Double(images) / t, cpu))
            }
        }
        add("2", "small-image push, \(clients) clients", "images/s", rates.mapValues(Measure.median))
        add("5", "server CPU per small image pushed", "CPU-ms/image", cpuPerImage.mapValues(Measure.median), higher: false)
    }

    // MARK: 3. wrk

    func wrkPhase() throws {
        log("3. wrk: manifest GET by tag and blob HEAD, 2 threads x 32 connections x \(seconds) s, \(reps) reps")
        var blobDigest: [String: String] = [:]
        for s in servers {
            let c = HTTPConn(port: s.port)
            var rng = SplitMix(state: nonce ^ 0xABCD)
            let m = try API.pushImage(c, repo: "bench/wrk", tag: "latest", rng: &rng, monolithic: monolithic[s.name] ?? false)
            let json = try JSONSerialization.jsonObject(with: Data(m)) as! [String: Any]
            blobDigest[s.name] = ((json["layers"] as! [[String: Any]])[0]["digest"] as! String)
            let r = try c.request("GET", "/v2/bench/wrk/manifests/latest", headers: [("Accept", API.manifestType)])
            guard r.status == 200, r.body == m else { throw E2EError("\(s.name): manifest GET returned \(r.status), \(r.body.count) bytes") }
        }
        var results: [String: [String: [Load.Result]]] = [:]
        var cpu: [String: [String: Double]] = [:]
        for rep in 0..<reps {
            for s in order(rep) {
                let base = "http://127.0.0.1:\(s.port)"
                let tests: [(String, [String])] = [
                    ("manifest", ["-t2", "-c32", "-d\(seconds)s", "--latency", "-H", "Accept: \(API.manifestType)", base + "/v2/bench/wrk/manifests/latest"]),
                    ("head", []),
                ]
                for (name, args) in tests {
                    let c0 = s.cpuSeconds()
                    // wrk 4.1 (Debian) cannot do HEAD: its parser waits for the
                    // Content-Length body a HEAD response never has (0 requests
                    // complete). Blob HEAD uses the built-in client instead.
                    let r = name == "head"
                        ? try Load.closedLoop(port: s.port, method: "HEAD", path: "/v2/bench/wrk/blobs/\(blobDigest[s.name]!)", connections: 32, seconds: Double(seconds))
                        : try Load.wrk(args)
                    let c = s.cpuSeconds() - c0
                    results[s.name, default: [:]][name, default: []].append(r)
                    cpu[s.name, default: [:]][name, default: 0] += c / (r.requests / 1000)
                    log("   \(s.name) \(name): " + String(format: "%.0f req/s p50 %.3f ms p99 %.3f ms, %.0f requests, %.1f CPU-s", r.rps, r.p50, r.p99, r.requests, c)
                        + (r.errors > 0 ? " ERRORS \(r.errors)" : ""))
                    if r.errors > 0 { notes.append("\(s.name) \(name) rep \(rep + 1): wrk reported \(r.errors) non-2xx/socket errors") }
                }
            }
        }
        for (name, label) in [("manifest", "manifest GET by tag (wrk)"), ("head", "blob HEAD (32 conns, built-in client)")] {
            add("3", label, "req/s", results.mapValues { Measure.median(($0[name] ?? []).map(\.rps)) })
            add("3", label + " p50", "ms", results.mapValues { Measure.median(($0[name] ?? []).map(\.p50)) }, higher: false)
            add("3", label + " p99", "ms", results.mapValues { Measure.median(($0[name] ?? []).map(\.p99)) }, higher: false)
            add("5", "server CPU per 1,000 \(name == "manifest" ? "manifest GETs" : "blob HEADs")", "CPU-s/1k req",
                cpu.mapValues { ($0[name] ?? 0) / Double(reps) }, higher: false)
        }
    }

    // MARK: 4. tag listing

    func listTags(_ c: HTTPConn, repo: String, n: Int) throws -> (tags: Int, pages: Int) {
        var path: String? = "/v2/\(repo)/tags/list?n=\(n)"
        var tags = 0, pages = 0
        while let p = path {
            let r = try c.request("GET", p)
            guard r.status == 200 else { throw E2EError("tags list \(p): \(r.status)") }
            let json = try JSONSerialization.jsonObject(with: Data(r.body)) as! [String: Any]
            tags += (json["tags"] as? [Any])?.count ?? 0
            pages += 1
            path = nil
            if let link = r.header("Link"), let lt = link.firstIndex(of: "<"), let gt = link.firstIndex(of: ">"), link.contains("rel=\"next\"") {
                path = API.path(fromLocation: String(link[link.index(after: lt)..<gt]))
            }
            if pages > 20_000 { throw E2EError("tag listing does not end") }
        }
        return (tags, pages)
    }

    func tagListing(writers: Int = 16) throws {
        let count = tagCount
        log("4. tag listing: \(count) tags on one manifest, pushed by \(writers) clients")
        let repo = "bench/tags"
        var tagRate: [String: Double] = [:]
        for s in servers {
            let c = HTTPConn(port: s.port)
            var rng = SplitMix(state: nonce ^ 0x7A65)
            let m = try API.pushImage(c, repo: repo, tag: "base", rng: &rng, monolithic: monolithic[s.name] ?? false)
            let next = Locked(0)
            let errors = Locked<[String]>([])
            let port = s.port
            let t0 = E2EBench.now()
            Measure.onThreads(writers) { _ in
                let c = HTTPConn(port: port, bufferSize: 64 << 10)
                while true {
                    let i = next.with { v -> Int in defer { v += 1 }; return v }
                    if i >= count - 1 { break }  // "base" is the 10,000th
                    do { try API.putManifest(c, repo: repo, tag: String(format: "t%05d", i), m) } catch { errors.with { $0.append("\(error)") }; break }
                }
            }
            let t = E2EBench.now() - t0
            if let e = errors.with({ $0.first }) { throw E2EError("\(s.name) tag push: \(e)") }
            tagRate[s.name] = Double(count - 1) / t
            log("   \(s.name): " + String(format: "%d tags in %.2f s", count - 1, t))
        }
        add("4", "manifest PUT by tag (same manifest), \(writers) clients", "tags/s", tagRate)

        var paged: [String: [Double]] = [:], single: [String: [Double]] = [:]
        var pagesSeen: [String: Int] = [:], singlePages: [String: Int] = [:]
        for rep in 0..<5 {
            for s in order(rep) {
                let c = HTTPConn(port: s.port)
                var t0 = E2EBench.now()
                let a = try listTags(c, repo: repo, n: 100)
                paged[s.name, default: []].append((E2EBench.now() - t0) * 1000)
                t0 = E2EBench.now()
                let b = try listTags(c, repo: repo, n: count)
                single[s.name, default: []].append((E2EBench.now() - t0) * 1000)
                guard a.tags == count, b.tags == count else { throw E2EError("\(s.name): listed \(a.tags) / \(b.tags) tags, expected \(count)") }
                pagesSeen[s.name] = a.pages
                singlePages[s.name] = b.pages
            }
        }
        add("4", "list \(count) tags, n=100 following Link", "ms", paged.mapValues(Measure.median), higher: false)
        add("4", "list \(count) tags, n=\(count)", "ms", single.mapValues(Measure.median), higher: false)
        for s in servers {
            notes.append("\(s.name): n=100 listing took \(pagesSeen[s.name] ?? 0) request(s); n=\(count) took \(singlePages[s.name] ?? 0) request(s) (Link followed)")
        }
    }

    // MARK: output

    func printTable(elapsed: Double) {
        print("berth-bench e2e: Berth (regctl serve) vs CNCF distribution 2.8.2 (docker-registry), loopback, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("ratio = Berth / distribution; '*' marks metrics where lower is better")
        print(String(repeating: "-", count: 118))
        func pad(_ s: String, _ n: Int, left: Bool = true) -> String {
            s.count >= n ? s : (left ? s + String(repeating: " ", count: n - s.count) : String(repeating: " ", count: n - s.count) + s)
        }
        func line(_ a: String, _ b: String, _ c: String, _ d: String, _ e: String) -> String {
            pad(a, 58) + " " + pad(b, 13) + " " + pad(c, 14, left: false) + " " + pad(d, 14, left: false) + " " + pad(e, 9, left: false)
        }
        print(line("metric", "unit", "Berth", "distribution", "ratio"))
        var section = ""
        for r in rows.sorted(by: { $0.section < $1.section }) {
            if r.section != section {
                section = r.section
                print(String(repeating: "-", count: 118))
            }
            let fmt: (Double) -> String = { v in
                v >= 1000 ? String(format: "%.0f", v) : v >= 10 ? String(format: "%.1f", v) : String(format: "%.3f", v)
            }
            let ratio = r.dist > 0 ? String(format: "%.2fx", r.berth / r.dist) : "-"
            print(line(r.name + (r.higherIsBetter ? "" : " *"), r.unit, fmt(r.berth), fmt(r.dist), ratio))
        }
        print(String(repeating: "-", count: 118))
        print("medians: large blobs of \(reps) reps; small push \(reps) x \(seconds) s; wrk \(reps) x \(seconds) s; listing of 5. Total run \(Int(elapsed)) s.")
        for n in notes { print("note: " + n) }
        for s in servers {
            print("note: \(s.name): blob upload \(monolithic[s.name]! ? "single-request POST ?digest=" : "POST + monolithic PUT (no single-request POST)") for small blobs")
        }
    }
}
