// The ONE place that names on-disk files and directories of a storage root
// (leveldb's db/filename.h). Nothing else in the engine builds a path by hand.
//
// Thread safety: value type, Sendable; `createDirectories` may race with itself
// harmlessly (EEXIST is success).
// Invariants:
//   1. Pack file names are `%08u.pack` (at least 8 decimal digits, zero padded,
//      no sign); `packID(fromFileName:)` accepts exactly what `packPath` makes.
//   2. Upload ids are single path components (no `/`, not `.`/`..`, no NUL).
//   3. All paths are under `root`; see FORMAT.md "Directory layout".

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct StorageLayout: Sendable {
    let root: String

    init(root: String) {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
    }

    var formatFile: String { root + "/FORMAT" }
    var lockFile: String { root + "/lock" }
    var metaDirectory: String { root + "/meta" }
    var packsDirectory: String { root + "/packs" }
    var uploadsDirectory: String { root + "/uploads" }

    static let packSuffix = ".pack"

    static func packFileName(_ id: UInt32) -> String {
        let digits = String(id)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits + packSuffix
    }

    func packPath(_ id: UInt32) -> String { packsDirectory + "/" + StorageLayout.packFileName(id) }

    /// Callers must have validated `id` with `isValidUploadID`.
    func uploadPath(_ id: String) -> String { uploadsDirectory + "/" + id }

    static func isValidUploadID(_ id: String) -> Bool {
        !id.isEmpty && id != "." && id != ".." && id.utf8.count <= 200
            && !id.utf8.contains(UInt8(ascii: "/")) && !id.utf8.contains(0)
    }

    /// Inverse of `packFileName`; nil for anything else (temp files, strays).
    static func packID(fromFileName name: String) -> UInt32? {
        guard name.hasSuffix(packSuffix) else { return nil }
        let stem = name.dropLast(packSuffix.count)
        guard stem.count >= 8, stem.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let id = UInt32(stem), packFileName(id) == name
        else { return nil }
        return id
    }

    /// Creates root, meta/, packs/, uploads/ (0755) if missing and makes the
    /// new entries durable (fsync of the parent directories, including the
    /// root's own parent when the root was created: without it a power cut can
    /// take the whole new root, and every write acknowledged in it, away).
    func createDirectories() throws {
        let createdRoot = try PosixIO.makeDirectory(root)
        for dir in [metaDirectory, packsDirectory, uploadsDirectory] {
            try PosixIO.makeDirectory(dir)
        }
        try PosixIO.syncDirectory(root)
        if createdRoot { try PosixIO.syncDirectory(parentDirectory) }
    }

    /// The directory holding `root`.
    var parentDirectory: String {
        guard let slash = root.lastIndex(of: "/") else { return "." }
        return slash == root.startIndex ? "/" : String(root[..<slash])
    }
}
