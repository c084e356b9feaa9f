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

    /// Whether every data extent of `path` from byte `from` on is shared with
    /// another file (FIEMAP_EXTENT_SHARED, from `xfs_io -c "fiemap -v"`), and
    /// there is at least one: the bytes exist once on disk.
    public static func extentsShared(_ path: String, from: UInt64) throws -> Bool {
        let out = try capture(try which("xfs_io"), ["-r", "-c", "fiemap -v", path])
        var any = false
        for line in out.split(separator: "\n") {
            // "   0: [8..591]:        192..783   584 0x2001" (512-byte units)
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard f.count >= 5, f[0].hasSuffix(":"), f[1].hasPrefix("["), f[2] != "hole" else { continue }
            let range = f[1].dropFirst().prefix { $0 != "." }
            guard let start = UInt64(range), let flags = UInt32(f[f.count - 1].dropFirst(2), radix: 16) else { continue }
            if (start + 1) * 512 <= from { continue }
            if flags & 0x2000 == 0 { return false }
            any = true
        }
        return any
    }

    static func capture(_ tool: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw Unavailable(description: "\(tool) \(arguments): exit \(p.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
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
