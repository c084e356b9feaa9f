// Closed-loop HTTP load against a server on loopback: wrk (Debian's 4.1)
// where it can, and a built-in client of keep-alive connections where it
// cannot (wrk 4.1 hangs on HEAD: it waits for a body HEAD never has).
// Shared by `e2e` and `limits`.

import Foundation

enum Load {
    struct Result { var rps: Double; var p50: Double; var p99: Double; var requests: Double; var errors: Int }

    /// wrk prints e.g. 312.00us, 1.23ms, 2.01s, 1.00m; returns milliseconds.
    static func parseDuration(_ s: Substring) -> Double {
        let units: [(String, Double)] = [("us", 0.001), ("ms", 1), ("s", 1000), ("m", 60_000)]
        for (u, f) in units where s.hasSuffix(u) {
            return (Double(s.dropLast(u.count)) ?? .nan) * f
        }
        return .nan
    }

    static func wrk(_ args: [String]) throws -> Result {
        let out = try Measure.run("/usr/bin/wrk", args)
        var r = Result(rps: .nan, p50: .nan, p99: .nan, requests: .nan, errors: 0)
        for line in out.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard !f.isEmpty else { continue }
            if f[0] == "Requests/sec:", f.count > 1 { r.rps = Double(f[1]) ?? .nan }
            if f[0] == "50%", f.count > 1 { r.p50 = parseDuration(f[1]) }
            if f[0] == "99%", f.count > 1 { r.p99 = parseDuration(f[1]) }
            if f.count > 2, f[1] == "requests", f[2] == "in" { r.requests = Double(f[0]) ?? .nan }
            if line.contains("Non-2xx") || line.contains("Socket errors") { r.errors += Int(f.last ?? "0") ?? 1 }
        }
        guard r.rps.isFinite else { throw E2EError("wrk output not understood:\n\(out)") }
        return r
    }

    /// Closed-loop load like wrk's: `connections` keep-alive connections, each
    /// on its own thread, issuing requests back to back for `seconds`;
    /// per-request latencies (monotonic) give p50/p99.
    static func closedLoop(port: UInt16, method: String, path: String, headers: [(String, String)] = [],
                           connections: Int, seconds: Double) throws -> Result {
        let lat = Locked<[Double]>([])
        let errors = Locked(0)
        let t0 = E2EBench.now()
        let deadline = t0 + seconds
        Measure.onThreads(connections) { _ in
            let c = HTTPConn(port: port, bufferSize: 64 << 10)
            var mine: [Double] = []
            mine.reserveCapacity(1 << 16)
            var bad = 0
            while true {
                let a = E2EBench.now()
                if a >= deadline { break }
                do {
                    let r = try c.request(method, path, headers: headers, keepBody: false)
                    if r.status >= 400 { bad += 1 }
                } catch { bad += 1 }
                mine.append((E2EBench.now() - a) * 1000)
            }
            lat.with { $0 += mine }
            errors.with { $0 += bad }
        }
        let t = E2EBench.now() - t0
        let all = lat.with { $0 }.sorted()
        guard !all.isEmpty else { throw E2EError("no requests completed") }
        func pct(_ q: Double) -> Double { all[min(all.count - 1, Int(Double(all.count) * q))] }
        return Result(rps: Double(all.count) / t, p50: pct(0.5), p99: pct(0.99), requests: Double(all.count), errors: errors.with { $0 })
    }
}
