// A reflink-capable file system for the `--link` tests: a 512 MiB XFS image
// (mkfs.xfs -m reflink=1, package xfsprogs) loop-mounted in a temp directory.
// Needs root (mount); the suite runs as root in CI. `ReflinkMount.enabled` is
// the tests' gate: on CI (CI=true) or as root they always run, so a machine
// where mounting fails FAILS the tests instead of skipping them.

import Foundation

public final class ReflinkMount {
    public struct Unavailable: Error, CustomStringConvertible { public let description: String }

    /// Where the XFS file system is mounted.
    public let path: String
    private let scratch: String
    private var mounted = true

    /// Run the reflink tests: always under CI=true, else when root can mount.
    public static var enabled: Bool {
        ProcessInfo.processInfo.environment["CI"] == "true" || getuid() == 0
    }

    public init() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("berth-xfs-\(UUID().uuidString)").path
        path = scratch + "/mnt"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let image = scratch + "/xfs.img"
        do {
            try Self.run("/usr/bin/truncate", ["-s", "512M", image])
            try Self.run(Self.which("mkfs.xfs"), ["-q", "-m", "reflink=1", image])
            try Self.run(Self.which("mount"), ["-o", "loop", image, path])
        } catch {
            mounted = false
            try? FileManager.default.removeItem(atPath: scratch)
            throw error
        }
    }

    /// Unmounts and removes the image (call in a defer).
    public func remove() {
        if mounted { try? Self.run(Self.which("umount"), [path]); mounted = false }
        try? FileManager.default.removeItem(atPath: scratch)
    }

    static func which(_ tool: String) throws -> String {
        for dir in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: dir + "/" + tool) {
            return dir + "/" + tool
        }
        throw Unavailable(description: "\(tool) not found (scripts/install-deps.sh --test installs xfsprogs)")
    }

    static func run(_ tool: String, _ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw Unavailable(description: "\(tool) \(arguments.joined(separator: " ")): exit \(p.terminationStatus): \(String(decoding: message, as: UTF8.self))")
        }
    }
}
