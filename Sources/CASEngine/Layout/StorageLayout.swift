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
    var journalDirectory: String { root + "/journal" }

    /// Recovery journal files: `%08u.log` segments and `%08u.snap` snapshots
    /// (the state before segment N, written when segment N was started).
    static let journalSegmentSuffix = ".log", journalSnapshotSuffix = ".snap"

    func journalPath(_ id: UInt32, suffix: String) -> String {
        journalDirectory + "/" + StorageLayout.numbered(id, suffix)
    }

    /// The id of a journal file name with `suffix`; nil for anything else.
    static func journalID(fromFileName name: String, suffix: String) -> UInt32? {
        numberedID(name, suffix)
    }

    static let packSuffix = ".pack"

    static func packFileName(_ id: UInt32) -> String { numbered(id, packSuffix) }

    /// `%08u` + suffix.
    private static func numbered(_ id: UInt32, _ suffix: String) -> String {
        let digits = String(id)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits + suffix
    }

    /// Inverse of `numbered`: exactly what it makes, nothing else.
    private static func numberedID(_ name: String, _ suffix: String) -> UInt32? {
        guard name.hasSuffix(suffix) else { return nil }
        let stem = name.dropLast(suffix.count)
        guard stem.count >= 8, stem.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let id = UInt32(stem), numbered(id, suffix) == name
        else { return nil }
        return id
    }

    func packPath(_ id: UInt32) -> String { packsDirectory + "/" + StorageLayout.packFileName(id) }

    /// Callers must have validated `id` with `isValidUploadID`.
    func uploadPath(_ id: String) -> String { uploadsDirectory + "/" + id }

    static func isValidUploadID(_ id: String) -> Bool {
        !id.isEmpty && id != "." && id != ".." && id.utf8.count <= 200
            && !id.utf8.contains(UInt8(ascii: "/")) && !id.utf8.contains(0)
    }

    /// Inverse of `packFileName`; nil for anything else (temp files, strays).
    static func packID(fromFileName name: String) -> UInt32? { numberedID(name, packSuffix) }

    /// Creates root, meta/, packs/, uploads/, journal/ (0755) if missing and makes the
    /// new entries durable (fsync of the parent directories, including the
    /// root's own parent when the root was created: without it a power cut can
    /// take the whole new root, and every write acknowledged in it, away).
    func createDirectories() throws {
        let createdRoot = try PosixIO.makeDirectory(root)
        for dir in [metaDirectory, packsDirectory, uploadsDirectory, journalDirectory] {
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
