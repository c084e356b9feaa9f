// berth-bench limits: Berth's hot paths against this machine's limits,
// measured in the same run (issue 12's table):
//   manifest GET by tag   vs nginx serving the same bytes as a static file (wrk -t2 -c32)
//   blob HEAD             vs nginx HEAD of a static file (built-in client, 32 connections)
//   large pull, 4 streams vs nginx `sendfile on` serving the same file
//   large push, 1 stream  vs `dd bs=1M conv=fdatasync` into the same directory
//   CPU-s/GB of the push  vs SHA-256 alone (the one computation a push cannot skip)
//   RssAnon of the server after the load
// nginx is Debian's nginx-light, started here on loopback with a config
// this benchmark writes (2 workers, sendfile on, access log off). Each
// repetition alternates which server goes first; figures are medians of the
// repetitions' values and of their same-repetition ratios.

import CASEngine
import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class LimitsBench: @unchecked Sendable {
    let workDir: String
    let berthBinary: String
    let reps: Int
    let seconds: Int
    let blobSize: Int
    let nonce = UInt64(DispatchTime.now().uptimeNanoseconds)
    /// [row: [(berth, reference)]] per repetition.
    var samples: [String: [(Double, Double)]] = [:]
    var order: [String] = []

    init(workDir: String, berthBinary: String, quick: Bool) {
        self.workDir = workDir
        self.berthBinary = berthBinary
        reps = quick ? 1 : 5
        seconds = quick ? 2 : 10
        blobSize = quick ? 16 << 20 : 512 << 20
    }

    func log(_ s: String) { FileHandle.standardError.write(Data(("[limits] " + s + "\n").utf8)) }

    func sample(_ row: String, berth: Double, reference: Double) {
        if samples[row] == nil { order.append(row) }
        samples[row, default: []].append((berth, reference))
        log(String(format: "   %@: Berth %.1f, reference %.1f, ratio %.2f", row as NSString, berth, reference, berth / reference))
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        _ = try? Measure.run("/bin/rm", ["-rf", workDir])
        try FileManager.default.createDirectory(atPath: workDir + "/static", withIntermediateDirectories: true)
        defer { _ = try? Measure.run("/bin/rm", ["-rf", workDir]) }
        let berth = try ServerUnderTest.berth(binary: berthBinary, workDir: workDir)
        defer { berth.stop() }

        // The same bytes on both sides: a manifest and a layer pushed to
        // Berth, written as files nginx serves at the same paths.
        let c = HTTPConn(port: berth.port)
        var rng = SplitMix(state: nonce)
        let manifest = try API.pushImage(c, repo: "bench/limits", tag: "latest", rng: &rng, monolithic: true)
        let json = try JSONSerialization.jsonObject(with: Data(manifest)) as! [String: Any]
        let layer = (json["layers"] as! [[String: Any]])[0]["digest"] as! String
        let layerBytes = try c.request("GET", "/v2/bench/limits/blobs/\(layer)").body
        let big = UnsafeMutableRawBufferPointer.allocate(byteCount: blobSize, alignment: 4096)
        defer { big.deallocate() }
        rng.fill(big)
        let bigDigest = BlobDigest.compute(UnsafeRawBufferPointer(big), .sha256).description
        try API.pushBlobPostPut(c, repo: "bench/limits", body: UnsafeRawBufferPointer(big), digest: bigDigest)
        try write(manifest, "/v2/bench/limits/manifests/latest")
        try write(layerBytes, "/v2/bench/limits/blobs/\(layer)")
        try write(Array(UnsafeRawBufferPointer(big)), "/v2/bench/limits/blobs/\(bigDigest)")
        let nginx = try Nginx.start(root: workDir + "/static", workDir: workDir)
        defer { nginx.stop() }

        let manifestPath = "/v2/bench/limits/manifests/latest", headPath = "/v2/bench/limits/blobs/\(layer)"
        let bigPath = "/v2/bench/limits/blobs/\(bigDigest)"
        for rep in 0..<reps {
            log("rep \(rep + 1)/\(reps)")
            let first = rep % 2 == 0
            func pair(_ row: String, _ measure: (UInt16) throws -> Double) throws {
                var b = 0.0, n = 0.0
                if first { b = try measure(berth.port); n = try measure(nginx.port) } else { n = try measure(nginx.port); b = try measure(berth.port) }
                sample(row, berth: b, reference: n)
            }
            try pair("manifest GET by tag, req/s (nginx: static file)") { port in
                try Load.wrk(["-t2", "-c32", "-d\(seconds)s", "--latency", "-H", "Accept: \(API.manifestType)",
                              "http://127.0.0.1:\(port)\(manifestPath)"]).rps
            }
            try pair("blob HEAD, req/s (nginx: HEAD of a static file)") { port in
                try Load.closedLoop(port: port, method: "HEAD", path: headPath, connections: 32, seconds: Double(seconds)).rps
            }
            try pair("large pull, 4 streams, MB/s (nginx: sendfile on)") { port in try pullFour(port, bigPath) }
            try pushAgainstDD(berth, big, rep: rep)
        }
        let sha = shaCPUSecondsPerGB(big)
        let anon = rssAnon(berth.pid)
        printTable(sha: sha, rssAnon: anon)
    }

    func write(_ bytes: [UInt8], _ path: String) throws {
        let full = workDir + "/static" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: full, contents: Data(bytes)) else { throw E2EError("cannot write \(full)") }
    }

    func pullFour(_ port: UInt16, _ path: String) throws -> Double {
        let errors = Locked<[String]>([])
        let size = blobSize
        let t = try Measure.seconds {
            Measure.onThreads(4) { _ in
                do {
                    let c = HTTPConn(port: port, bufferSize: 1 << 20)
                    let r = try c.request("GET", path, keepBody: false)
                    guard r.status == 200, r.bodyLength == size else { throw E2EError("GET: \(r.status), \(r.bodyLength) bytes") }
                } catch { errors.with { $0.append("\(error)") } }
            }
            if let e = errors.with({ $0.first }) { throw E2EError("pull4: \(e)") }
        }
        return 4 * Double(size) / 1e6 / t
    }

    /// One fsync'd push of `blobSize` fresh bytes (first word re-stamped)
    /// against dd writing as many bytes with fdatasync into the same directory.
    func pushAgainstDD(_ berth: ServerUnderTest, _ big: UnsafeMutableRawBufferPointer, rep: Int) throws {
        big.baseAddress!.storeBytes(of: nonce &+ UInt64(rep) &+ 1, as: UInt64.self)
        let digest = BlobDigest.compute(UnsafeRawBufferPointer(big), .sha256).description
        let c = HTTPConn(port: berth.port, bufferSize: 1 << 20)
        let cpu0 = berth.cpuSeconds()
        let tb = try Measure.seconds { try API.pushBlobPostPut(c, repo: "bench/push\(rep)", body: UnsafeRawBufferPointer(big), digest: digest) }
        let cpu = berth.cpuSeconds() - cpu0
        let ddFile = workDir + "/dd.bin"
        let td = try Measure.seconds {
            _ = try Measure.run("/bin/dd", ["if=/dev/zero", "of=\(ddFile)", "bs=1M", "count=\(blobSize >> 20)", "conv=fdatasync"])
        }
        try? FileManager.default.removeItem(atPath: ddFile)
        let mb = Double(blobSize) / 1e6
        sample("large push, 1 stream, fsync'd, MB/s (dd bs=1M conv=fdatasync)", berth: mb / tb, reference: mb / td)
        samples["push CPU-s/GB", default: []].append((cpu / (Double(blobSize) / 1e9), 0))
    }

    /// SHA-256 of the buffer (OpenSSL EVP through the engine), one thread: CPU-s per GB.
    func shaCPUSecondsPerGB(_ big: UnsafeMutableRawBufferPointer) -> Double {
        var best = Double.infinity
        for _ in 0..<3 {
            var usage0 = rusage(), usage1 = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage0)
            _ = BlobDigest.compute(UnsafeRawBufferPointer(big), .sha256)
            getrusage(RUSAGE_SELF.rawValue, &usage1)
            func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
            best = min(best, s(usage1.ru_utime) - s(usage0.ru_utime) + s(usage1.ru_stime) - s(usage0.ru_stime))
        }
        return best / (Double(blobSize) / 1e9)
    }

    func rssAnon(_ pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("RssAnon:") {
            return (line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) } ?? 0) / 1024
        }
        return 0
    }

    func printTable(sha: Double, rssAnon: Double) {
        print("berth-bench limits: Berth against this machine's limits, same run, \(ProcessInfo.processInfo.activeProcessorCount) cores, \(reps) reps")
        print(String(repeating: "-", count: 112))
        print("path".padding(toLength: 66, withPad: " ", startingAt: 0) + "     Berth  reference   median ratio")
        for row in order {
            let s = samples[row] ?? []
            let line = row.padding(toLength: 66, withPad: " ", startingAt: 0)
                + String(format: " %9.1f  %9.1f  %9.2fx", Measure.median(s.map(\.0)), Measure.median(s.map(\.1)),
                         Measure.median(s.map { $0.0 / $0.1 }))
            print(line)
        }
        let pushCPU = Measure.median((samples["push CPU-s/GB"] ?? []).map(\.0))
        print(String(format: "large push, server CPU-s/GB %.2f; SHA-256 alone %.2f CPU-s/GB (ratio %.2fx)", pushCPU, sha, pushCPU / sha))
        print(String(format: "server RssAnon after the load: %.1f MiB", rssAnon))
        print(String(repeating: "-", count: 112))
    }
}

/// nginx-light on loopback serving `root`, with a config written here.
final class Nginx {
    let port: UInt16
    let process: Process

    private init(port: UInt16, process: Process) {
        self.port = port
        self.process = process
    }

    static func start(root: String, workDir: String) throws -> Nginx {
        let binary = "/usr/sbin/nginx"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw E2EError("nginx missing: apt-get install -y nginx-light")
        }
        let port = try ServerUnderTest.freePort()
        let conf = """
        daemon off;
        worker_processes 2;
        pid \(workDir)/nginx.pid;
        error_log \(workDir)/nginx-error.log error;
        events { worker_connections 1024; }
        http {
            access_log off;
            sendfile on;
            tcp_nopush on;
            keepalive_requests 1000000;
            keepalive_timeout 120s;
            client_body_temp_path \(workDir)/nginx-tmp;
            default_type application/octet-stream;
            server {
                listen 127.0.0.1:\(port);
                root \(root);
                location /v2/bench/limits/manifests/ { default_type \(API.manifestType); }
            }
        }

        """
        let path = workDir + "/nginx.conf"
        try conf.write(toFile: path, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["-c", path, "-p", workDir]
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        let n = Nginx(port: port, process: p)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let r = try? HTTPConn(port: port).request("HEAD", "/v2/bench/limits/manifests/latest"), r.status == 200 { return n }
            usleep(50_000)
        }
        n.stop()
        throw E2EError("nginx not ready on 127.0.0.1:\(port)")
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}
