import Foundation
import Testing
@testable import ObjectStorage

#if canImport(Glibc)
import Glibc
#endif

/// Retries on SlowDown (503): a loopback proxy in front of SeaweedFS answers
/// the first N requests with S3's SlowDown error, then forwards to the real
/// server unchanged.
@Suite(.serialized) struct S3RetryTests {
    final class SlowDownProxy {
        let process = Process()
        let port: Int

        init(upstreamPort: Int, failures: Int) throws {
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/slowdown_proxy.py")
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script.path, String(upstreamPort), String(failures)]
            let output = Pipe()
            process.standardOutput = output
            process.standardInput = FileHandle.nullDevice
            try process.run()
            var line = [UInt8]()
            while true {
                let byte = output.fileHandleForReading.readData(ofLength: 1)
                guard let b = byte.first else { break }
                if b == UInt8(ascii: "\n") { break }
                line.append(b)
            }
            guard let port = Int(String(decoding: line, as: UTF8.self)) else {
                process.terminate()
                throw ObjectStorageTestError("slowdown_proxy.py did not print its port")
            }
            self.port = port
        }

        func stop() {
            // SIGKILL: the proxy holds no state, and started by the test
            // runner it was seen to ignore SIGTERM.
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    static func client(_ server: SeaweedFS, proxy: SlowDownProxy, maxAttempts: Int) -> S3Client {
        var config = server.configuration()
        config.port = proxy.port
        config.maxAttempts = maxAttempts
        return S3Client(config)
    }

    @Test func slowDownIsRetriedUntilTheServerAnswers() async throws {
        let server = try await SeaweedFS.start()
        defer { server.stop() }
        let proxy = try SlowDownProxy(upstreamPort: server.s3Port, failures: 3)
        defer { proxy.stop() }
        let client = Self.client(server, proxy: proxy, maxAttempts: 5)
        do {
            // The first three answers are SlowDown; the fourth attempt lands.
            try await client.putObject("retried", body: .bytes(Array("after slowdown".utf8)))
            #expect(try await S3ClientTests.collect(client.getObject("retried")) == Array("after slowdown".utf8))
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    @Test func slowDownPastMaxAttemptsIsTheTypedError() async throws {
        let server = try await SeaweedFS.start()
        defer { server.stop() }
        let proxy = try SlowDownProxy(upstreamPort: server.s3Port, failures: 100)
        defer { proxy.stop() }
        let client = Self.client(server, proxy: proxy, maxAttempts: 3)
        await #expect {
            try await client.putObject("never", body: .bytes([1, 2, 3]))
        } throws: { error in
            guard let error = error as? S3Error else { return false }
            return error.kind == .service && error.code == "SlowDown" && error.status == 503 && error.attempts == 3
                && error.requestID == "proxy-slowdown"
        }
        try await client.shutdown()
    }
}
