// Small measurement helpers: wall-clock medians and process RSS.

import Foundation

enum Measure {
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Runs `body(i)` for i in 0..<count on `count` real threads at once
    /// (DispatchQueue.concurrentPerform would cap it at the core count).
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            let thread = Thread {
                body(i)
                group.leave()
            }
            thread.start()
        }
        group.wait()
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Resident set size (VmRSS) and its peak (VmHWM) in MiB, from /proc.
    static func rss() -> (current: Double, peak: Double) {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
        func field(_ name: String) -> Double {
            for line in text.split(separator: "\n") where line.hasPrefix(name) {
                let kb = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) } ?? 0
                return kb / 1024
            }
            return 0
        }
        return (field("VmRSS:"), field("VmHWM:"))
    }

    /// Anonymous resident memory (RssAnon) in MiB: heap, not LMDB's mapped pages.
    static func rssAnon() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("RssAnon:") {
            return (line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) } ?? 0) / 1024
        }
        return 0
    }

    static func run(_ tool: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    static func report(_ name: String, _ value: Double, _ unit: String, reference: Double? = nil, refName: String = "") {
        var line = String(format: "%-44@ %12.1f %@", name as NSString, value, unit as NSString)
        if let reference, reference > 0 {
            line += String(format: "   (%@ %.1f; ratio %.2f)", refName as NSString, reference, value / reference)
        }
        print(line)
    }
}
