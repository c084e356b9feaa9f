// Engine-level benchmarks (issue: storage engine):
//   - MB/s committing a 256 MiB blob with fsync, beside dd conv=fdatasync
//   - SHA-256 MB/s, beside `openssl speed -evp sha256`
//   - small-blob commits/s with group commit (1 and 32 writer threads)
//   - digest lookups/s with 1,000,000 blobs indexed, and RSS then
// Every figure is the median of several runs in this one process.

import CASEngine
@_spi(Benchmarks) import CASEngine
import Foundation

struct EngineBench {
    let dir: String
    let runs = 5

    func run() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        print("engine benchmarks in \(dir) (median of \(runs) runs)")
        try largeCommit()
        try sha256()
        try smallCommits(threads: 1, seconds: 3)
        try smallCommits(threads: 32, seconds: 3)
        try lookups(count: 1_000_000)
    }

    func freshRoot(_ name: String) -> String {
        let root = dir + "/" + name + "-" + UUID().uuidString
        return root
    }

    func largeCommit() throws {
        let size = 256 << 20
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        for i in chunk.indices { chunk[i] = UInt8(truncatingIfNeeded: i &* 31 &+ 7) }
        var ours: [Double] = []
        var dd: [Double] = []
        for run in 0..<runs {
            let root = freshRoot("large")
            let store = try Store.open(at: root)
            // Make the content unique per run so no deduplication happens.
            chunk[0] = UInt8(run)
            var full = [UInt8]()
            full.reserveCapacity(size)
            for _ in 0..<(size >> 20) { full += chunk }
            let digest = BlobDigest.compute(full, .sha256)
            let t = try Measure.seconds {
                let s = try store.startUpload(repository: "bench/large")
                var offset = 0
                while offset < size {
                    try full[offset..<(offset + (1 << 20))].withUnsafeBytes {
                        _ = try store.appendUpload(id: s.id, repository: "bench/large", offset: nil, $0)
                    }
                    offset += 1 << 20
                }
                _ = try store.commitUpload(id: s.id, repository: "bench/large", digest: digest)
            }
            ours.append(Double(size) / 1e6 / t)
            store.close()
            try? FileManager.default.removeItem(atPath: root)

            let ddOut = root + "-dd"
            let tdd = try Measure.seconds {
                _ = try Measure.run("/bin/dd", ["if=/dev/zero", "of=\(ddOut)", "bs=1M", "count=256", "conv=fdatasync"])
            }
            dd.append(Double(size) / 1e6 / tdd)
            try? FileManager.default.removeItem(atPath: ddOut)
        }
        Measure.report("commit 256 MiB blob (upload+fsync+rename)", Measure.median(ours), "MB/s",
                       reference: Measure.median(dd), refName: "dd fdatasync")
    }

    func sha256() throws {
        var buf = [UInt8](repeating: 0, count: 64 << 20)
        for i in buf.indices { buf[i] = UInt8(truncatingIfNeeded: i) }
        var rates: [Double] = []
        for _ in 0..<runs {
            let t = Measure.seconds { _ = BlobDigest.compute(buf, .sha256) }
            rates.append(Double(buf.count) / 1e6 / t)
        }
        // openssl speed prints the 16384-byte column last: "sha256 ... 1234.56k".
        let out = (try? Measure.run("/usr/bin/openssl", ["speed", "-evp", "sha256", "-bytes", "16384", "-seconds", "2"])) ?? ""
        var reference: Double?
        for line in out.split(separator: "\n") where line.hasPrefix("sha256") || line.hasPrefix("SHA256") {
            if let last = line.split(separator: " ").last, last.hasSuffix("k"), let kb = Double(last.dropLast()) {
                reference = kb * 1000 / 1e6
            }
        }
        Measure.report("SHA-256 (EVP, 64 MiB one-shot)", Measure.median(rates), "MB/s",
                       reference: reference, refName: "openssl speed")
    }

    func smallCommits(threads: Int, seconds: Double) throws {
        var rates: [Double] = []
        for _ in 0..<3 {
            let root = freshRoot("small")
            let store = try Store.open(at: root)
            let counter = Counter()
            let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
            let t = Measure.seconds {
                Measure.onThreads(threads) { worker in
                    var n: UInt64 = 0
                    while DispatchTime.now().uptimeNanoseconds < deadline {
                        var blob = [UInt8](repeating: 0, count: 4096)
                        withUnsafeBytes(of: (UInt64(worker), n, UInt64.random(in: 0...UInt64.max))) { raw in
                            for (i, b) in raw.enumerated() { blob[i] = b }
                        }
                        let d = BlobDigest.compute(blob, .sha256)
                        _ = try? store.putBlob(blob, digest: d, repository: "bench/small")
                        n += 1
                    }
                    counter.add(Int(n))
                }
            }
            rates.append(Double(counter.value) / t)
            store.close()
            try? FileManager.default.removeItem(atPath: root)
        }
        Measure.report("small-blob commits, \(threads) writer thread(s), 4 KiB", Measure.median(rates), "commits/s")
    }

    func lookups(count: Int) throws {
        let root = freshRoot("index")
        var options = StoreOptions()
        options.metadataMapSize = 8 << 30
        let store = try Store.open(at: root, options: options)
        defer {
            store.close()
            try? FileManager.default.removeItem(atPath: root)
        }
        func digest(_ i: Int) -> BlobDigest {
            withUnsafeBytes(of: UInt64(i).bigEndian) { BlobDigest.compute($0, .sha256) }
        }
        let fill = try Measure.seconds {
            var batch: [BlobDigest] = []
            for i in 0..<count {
                batch.append(digest(i))
                if batch.count == 10_000 {
                    try store._indexForBenchmark(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            if !batch.isEmpty { try store._indexForBenchmark(batch) }
        }
        print(String(format: "indexed %d blobs in %.1f s", count, fill))
        let probes = (0..<200_000).map { _ in digest(Int.random(in: 0..<count)) }
        var rates: [Double] = []
        for _ in 0..<runs {
            let found = Counter()
            let t = Measure.seconds {
                DispatchQueue.concurrentPerform(iterations: 2) { part in
                    var hits = 0
                    for i in stride(from: part, to: probes.count, by: 2) where (try? store.stat(probes[i])) != nil {
                        hits += 1
                    }
                    found.add(hits)
                }
            }
            precondition(found.value == probes.count, "lookups missed entries")
            rates.append(Double(probes.count) / t)
        }
        let rss = Measure.rss()
        Measure.report("digest lookups (1M indexed, 2 threads)", Measure.median(rates), "lookups/s")
        Measure.report("RSS with 1M blobs indexed (current)", rss.current, "MiB")
    }
}

final class Counter: @unchecked Sendable {
    // @unchecked: `total` is only touched while holding `lock`.
    private let lock = NSLock()
    private var total = 0
    func add(_ n: Int) { lock.lock(); total += n; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return total }
}
