// The two servers under test, started as child processes on loopback with
// equivalent configurations, and their CPU time and peak RSS from /proc.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class ServerUnderTest {
    let name: String
    let port: UInt16
    let root: String
    let process: Process

    var pid: Int32 { process.processIdentifier }

    private init(name: String, port: UInt16, root: String, process: Process) {
        self.name = name
        self.port = port
        self.root = root
        self.process = process
    }

    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &addr) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                guard bind(fd, $0, len) == 0, getsockname(fd, $0, &len) == 0 else { throw E2EError("bind: \(errno)") }
            }
        }
        return UInt16(bigEndian: addr.sin_port)
    }

    /// Berth: `regctl serve` configured by REGISTRY_* environment.
    static func berth(binary: String, workDir: String) throws -> ServerUnderTest {
        let port = try freePort()
        let root = workDir + "/berth"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["serve"]
        var env = ProcessInfo.processInfo.environment
        env["REGISTRY_HTTP_ADDR"] = "127.0.0.1:\(port)"
        env["REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY"] = root
        env["REGISTRY_LOG_ACCESSLOG_DISABLED"] = "true"
        env["REGISTRY_LOG_LEVEL"] = "error"
        env["REGISTRY_STORAGE_DELETE_ENABLED"] = "true"
        p.environment = env
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        p.standardError = FileHandle(forWritingAtPath: workDir + "/berth.log") ?? {
            FileManager.default.createFile(atPath: workDir + "/berth.log", contents: nil)
            return FileHandle(forWritingAtPath: workDir + "/berth.log")!
        }()
        try p.run()
        let s = ServerUnderTest(name: "berth", port: port, root: root, process: p)
        try s.waitReady()
        return s
    }

    /// CNCF distribution 2.8.2 (Debian's docker-registry) with the same
    /// storage, log and address settings. The blob-descriptor cache is the
    /// stock config's `inmemory` (what every packaged config ships with).
    static func distribution(binary: String, workDir: String) throws -> ServerUnderTest {
        let port = try freePort()
        let root = workDir + "/distribution"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let config = """
        version: 0.1
        log:
          level: error
          accesslog:
            disabled: true
        storage:
          filesystem:
            rootdirectory: \(root)
          delete:
            enabled: true
          cache:
            blobdescriptor: inmemory
        http:
          addr: 127.0.0.1:\(port)

        """
        let configPath = workDir + "/distribution.yml"
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["serve", configPath]
        FileManager.default.createFile(atPath: workDir + "/distribution.log", contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        p.standardError = FileHandle(forWritingAtPath: workDir + "/distribution.log")
        try p.run()
        let s = ServerUnderTest(name: "distribution", port: port, root: root, process: p)
        try s.waitReady()
        return s
    }

    func waitReady() throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            guard process.isRunning else { throw E2EError("\(name) exited during startup (status \(process.terminationStatus))") }
            let c = HTTPConn(port: port, bufferSize: 64 << 10)
            if let r = try? c.request("GET", "/v2/"), r.status == 200 { return }
            usleep(100_000)
        }
        throw E2EError("\(name) not ready on 127.0.0.1:\(port) after 30 s")
    }

    /// utime + stime of the whole process (all threads), in seconds.
    func cpuSeconds() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        // Fields after "comm)": state is field 3; utime 14, stime 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        let utime = Double(fields[11]) ?? 0
        let stime = Double(fields[12]) ?? 0
        return (utime + stime) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Peak RSS (VmHWM) in MiB.
    func peakRSS() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) } ?? 0
            return kb / 1024
        }
        return 0
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}
