// FaultInjectingIO: a power-loss simulator under PosixIO, for tests only
// (leveldb's FaultInjectionTestEnv and RocksDB's FaultInjectionTestFS are the
// models). Compiled into debug builds only; a process (the crash writer)
// enables it once and from then on every disk-changing PosixIO call goes
// through it.
//
// It remembers, per file, every write and truncate since that file's last
// fsync/fdatasync together with the bytes and length it replaced (so an
// overwrite of synced bytes, such as a dedicated pack's header at offset 0, is
// undone too), and, per directory, the entries created, renamed in or out, or
// unlinked since that directory's last fsync. A file renamed away or unlinked
// is kept under a hard link in the stash directory so it can be put back.
// `cutPower` freezes the layer, puts every file and directory back to its
// durable state and ends the process at once (`_exit`).
//
// Limits (RECOVERY.md "Power-loss tests"): LMDB does its own I/O, so its
// committed transactions are taken as durable. Reads are not intercepted. A
// directory loses all of its unsynced changes; a rename across directories is
// one change in each. In a "torn" cut a file keeps a random prefix of its
// unsynced writes, the last kept one possibly cut short; otherwise none.
//
// Thread safety: one Mutex serialises every intercepted call, the system call
// and its bookkeeping together. A power cut takes the Mutex and never gives it
// back, so once a cut has begun no intercepted call does I/O: other threads
// block in the layer until the process ends.
// Invariants:
//   1. Undoing a file's log in reverse order yields its bytes and length at its
//      last sync (empty for a file created since).
//   2. Undoing a directory's log in reverse order yields its entries at its
//      last sync; every name removed from it since is a hard link in the stash.
//   3. A cut reverts file contents first, then every directory's log in
//      reverse global order (sequence numbers).
//   4. `skipSync` skips exactly the calls made at that one `SyncSite`: nothing
//      is marked durable; the call still counts as an operation. (No sync is
//      passed to the kernel at all: durability is what the layer records.)
//   5. Operations are counted from 1 in call order; `cutAtOperation: n` cuts
//      power instead of performing operation n.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A place in the engine that syncs, named so a power-loss test can remove
/// exactly that one sync and watch the crash suite catch it.
public enum SyncSite: String, Sendable, CaseIterable {
    /// PackStore.flush: fdatasync of a shared pack after a batch of records.
    case packFlush = "pack-flush"
    /// PackStore.commitDedicated: fsync of the upload file after its record
    /// header is written, before the rename into packs/.
    case dedicatedPackFile = "dedicated-pack-file"
    /// PackStore.commitDedicated: fsync of packs/ after the rename.
    case dedicatedPackDirectory = "dedicated-pack-directory"
}

public enum FaultInjectingIO {
    /// The exit status of a process that cut its own power.
    public static let powerCutExitCode: Int32 = 86
    /// The exit status when the layer could not restore the durable state.
    public static let revertFailedExitCode: Int32 = 87

    public struct Configuration: Sendable {
        /// Where unlinked and renamed-away files are kept; must be on the same
        /// file system as the files, outside every directory the engine lists.
        public var stashDirectory: String
        /// Cut power instead of performing this operation (1-based); nil: never.
        public var cutAtOperation: Int?
        /// Skip the syncs at this site (a deliberately missing fsync).
        public var skipSync: SyncSite?

        public init(stashDirectory: String, cutAtOperation: Int? = nil, skipSync: SyncSite? = nil) {
            self.stashDirectory = stashDirectory
            self.cutAtOperation = cutAtOperation
            self.skipSync = skipSync
        }
    }

    #if DEBUG
    public static let isCompiledIn = true

    private static let enabled = Atomic<Bool>(false)
    private static let state = Mutex(State())

    @inline(__always)
    static var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    /// Turns the layer on for the rest of the process. `generator` decides, at
    /// a cut, whether it is torn and what survives of each file.
    public static func enable(_ configuration: Configuration, generator: some RandomNumberGenerator & Sendable) throws {
        _ = try PosixIO.Raw.makeDirectory(configuration.stashDirectory)
        state.withLock { s in
            s.configuration = configuration
            s.generator = generator
        }
        enabled.store(true, ordering: .sequentiallyConsistent)
    }

    /// Operations performed through the layer so far.
    public static var operationCount: Int { state.withLock { $0.operations } }

    /// Cuts power now (for a failpoint's `.run` action): waits for the
    /// intercepted call in progress, if any, then never returns.
    public static func cutPower() -> Never {
        state.withLock { s -> Never in s.cutPower() }
    }

    // MARK: Intercepted calls (PosixIO's disk-changing functions)

    static func openFile(_ path: String, _ flags: Int32, create: Bool) throws -> Int32 {
        try state.withLock { s in
            s.tick()
            let existed = try key(path: path) != nil
            if existed, flags & O_TRUNC != 0 {
                let own = try PosixIO.Raw.openFile(path, O_RDWR)
                let k = try s.track(ownDescriptor: own, path: path)
                try s.recordTruncate(k, to: 0)
            }
            let fd = try PosixIO.Raw.openFile(path, flags, create: create)
            if !existed {
                let (dir, name) = split(path)
                try s.recordEntry(in: dir, .created(name))
            }
            return fd
        }
    }

    static func pwriteFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: UInt64, path: String) throws {
        try state.withLock { s in
            s.tick()
            let k = try s.track(fd: fd, path: path)
            let own = s.files[k]!.fd
            let size = try PosixIO.fileSize(own, path: path)
            let end = min(size, offset + UInt64(bytes.count))
            let prior = offset < end ? try PosixIO.readBytes(own, count: Int(end - offset), at: offset, path: path) : []
            s.files[k]!.log.append(ContentUndo(offset: offset, prior: prior, priorSize: size, written: bytes.count))
            try PosixIO.Raw.pwriteFully(fd, bytes, at: offset, path: path)
        }
    }

    static func truncateFile(_ fd: Int32, to length: UInt64, path: String) throws {
        try state.withLock { s in
            s.tick()
            let k = try s.track(fd: fd, path: path)
            try s.recordTruncate(k, to: length)
            try PosixIO.Raw.truncateFile(fd, to: length, path: path)
        }
    }

    static func syncFile(_ fd: Int32, path: String, data: Bool, site: SyncSite?) throws {
        try state.withLock { s in
            s.tick()
            if let site, site == s.configuration?.skipSync { return }
            // No real fsync: durability is what this layer records, and the
            // machine itself never loses power (a real sync only slows tests).
            if let k = try? key(fd: fd, path: path), let record = s.files.removeValue(forKey: k) {
                PosixIO.closeFile(record.fd)
            }
        }
    }

    static func renameFile(_ from: String, _ to: String) throws {
        try state.withLock { s in
            s.tick()
            guard let fromStash = try s.stash(from) else { return try PosixIO.Raw.renameFile(from, to) }
            let toStash = try s.stash(to)
            do {
                try PosixIO.Raw.renameFile(from, to)
            } catch {
                _ = unlink(fromStash)
                if let toStash { _ = unlink(toStash) }
                throw error
            }
            let (fromDir, fromName) = split(from)
            let (toDir, toName) = split(to)
            if let toStash { try s.recordEntry(in: toDir, .removed(toName, stash: toStash)) }
            try s.recordEntry(in: fromDir, .removed(fromName, stash: fromStash))
            try s.recordEntry(in: toDir, .created(toName))
        }
    }

    static func unlinkFile(_ path: String) throws -> Bool {
        try state.withLock { s in
            s.tick()
            guard let stashed = try s.stash(path) else { return false }
            do {
                _ = try PosixIO.Raw.unlinkFile(path)
            } catch {
                _ = unlink(stashed)
                throw error
            }
            let (dir, name) = split(path)
            try s.recordEntry(in: dir, .removed(name, stash: stashed))
            return true
        }
    }

    static func makeDirectory(_ path: String) throws -> Bool {
        try state.withLock { s in
            s.tick()
            let created = try PosixIO.Raw.makeDirectory(path)
            if created {
                let (dir, name) = split(path)
                try s.recordEntry(in: dir, .createdDirectory(name))
            }
            return created
        }
    }

    static func syncDirectory(_ path: String, site: SyncSite?) throws {
        try state.withLock { s in
            s.tick()
            if let site, site == s.configuration?.skipSync { return }
            guard let k = try key(path: path), let record = s.dirs.removeValue(forKey: k) else { return }
            for op in record.log {
                if case .removed(_, let stashed) = op.undo { _ = unlink(stashed) }
            }
        }
    }

    // MARK: Paths and identities

    struct FileKey: Hashable, Sendable {
        var device: UInt64
        var inode: UInt64
    }

    static func key(fd: Int32, path: String) throws -> FileKey {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw StoreError.posix("fstat", path: path, errno: errno) }
        return FileKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    /// nil when nothing exists at `path`.
    static func key(path: String) throws -> FileKey? {
        var st = stat()
        if lstat(path, &st) == 0 { return FileKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)) }
        if errno == ENOENT { return nil }
        throw StoreError.posix("lstat", path: path, errno: errno)
    }

    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let dir = String(path[..<slash])
        return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
    }
    #else
    public static let isCompiledIn = false
    public static func enable(_ configuration: Configuration, generator: some RandomNumberGenerator & Sendable) throws {
        throw StoreError(.invalidArgument, "fault injection is compiled into debug builds only")
    }
    public static var operationCount: Int { 0 }
    #endif
}
