// `<root>/FORMAT`: the engine format version, when the root was created, and
// a random instance id. Written once, atomically (temp file, fsync, rename,
// directory fsync); read at every open.
//
// Thread safety: stateless functions.
// Invariants:
//   1. A root whose FORMAT names a version other than `FormatFile.version` is
//      refused with `.unsupportedFormat`, never guessed at.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct FormatFile: Equatable {
    static let version = 1

    let version: Int
    let createdAt: UInt64
    let instanceID: String

    static func loadOrCreate(at path: String, directory: String, now: UInt64) throws -> FormatFile {
        if let data = FileManager.default.contents(atPath: path) {
            return try parse(String(decoding: data, as: UTF8.self), path: path)
        }
        let file = FormatFile(version: version, createdAt: now, instanceID: UUID().uuidString.lowercased())
        try DurableFile.writeAtomically(Array(file.text.utf8), to: path, directory: directory)
        return file
    }

    var text: String {
        "berth-format \(version)\ncreated-at \(createdAt)\ninstance-id \(instanceID)\n"
    }

    static func parse(_ text: String, path: String) throws -> FormatFile {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        guard let v = fields["berth-format"].flatMap({ Int($0) }) else {
            throw StoreError(.corrupt, "\(path) is not a Berth FORMAT file")
        }
        guard v == version else {
            throw StoreError(.unsupportedFormat, "\(path) says format \(v); this build reads format \(version)")
        }
        return FormatFile(version: v, createdAt: fields["created-at"].flatMap { UInt64($0) } ?? 0,
                          instanceID: fields["instance-id"] ?? "")
    }
}

/// Temp file, write, fsync, rename, directory fsync: the file is either the
/// old one or the complete new one after a crash.
enum DurableFile {
    static func writeAtomically(_ bytes: [UInt8], to path: String, directory: String) throws {
        let tmp = path + ".tmp"
        let fd = try PosixIO.openFile(tmp, O_WRONLY | O_CREAT | O_TRUNC, create: true)
        defer { PosixIO.closeFile(fd) }
        try bytes.withUnsafeBytes { try PosixIO.pwriteFully(fd, $0, at: 0, path: tmp) }
        try PosixIO.fsyncFile(fd, path: tmp)
        try PosixIO.renameFile(tmp, path)
        try PosixIO.syncDirectory(directory)
    }
}
