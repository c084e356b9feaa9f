// FaultInjectingIO's record of what is not durable yet, and the power cut
// that throws it away (see FaultInjectingIO.swift for the model).
//
// Thread safety: `State` is only ever touched inside FaultInjectingIO's Mutex.
// Invariants:
//   1. A tracked file has its own O_RDWR descriptor (reopened from the
//      engine's), so its log can be read and undone after the engine closed or
//      unlinked it; the descriptor is closed when the file is synced.
//   2. `ContentUndo` restores the state before its operation: write `prior` at
//      `offset`, then truncate to `priorSize`.
//   3. A cut writes one summary line to stderr and ends the process with
//      `powerCutExitCode`, or `revertFailedExitCode` if any undo step failed.

#if DEBUG
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension FaultInjectingIO {
    struct ContentUndo: Sendable {
        var offset: UInt64
        var prior: [UInt8]
        var priorSize: UInt64
        /// Bytes the write wrote (0 for a truncate): a torn cut keeps a prefix.
        var written: Int
    }

    struct FileRecord: Sendable {
        var fd: Int32
        var path: String
        /// Order of first change (dictionary order is not reproducible).
        var order: Int
        var log: [ContentUndo] = []
    }

    enum EntryUndo: Sendable {
        /// A file appeared (created or renamed in): undo removes the name.
        case created(String)
        /// A directory was created: undo moves it, and all below it, to the stash.
        case createdDirectory(String)
        /// A name went away (unlinked, renamed out or over): undo links it back.
        case removed(String, stash: String)
    }

    struct EntryOp: Sendable {
        var sequence: Int
        var undo: EntryUndo
    }

    struct DirectoryRecord: Sendable {
        var path: String
        var log: [EntryOp] = []
    }

    struct State: Sendable {
        var configuration: Configuration?
        var generator: (any RandomNumberGenerator & Sendable)?
        var files: [FileKey: FileRecord] = [:]
        var dirs: [FileKey: DirectoryRecord] = [:]
        var operations = 0
        var sequence = 0
        var stashed = 0

        /// Counts one operation; cuts power instead when it is the chosen one.
        mutating func tick() {
            operations += 1
            if let cut = configuration?.cutAtOperation, operations == cut { cutPower() }
        }

        mutating func track(fd: Int32, path: String) throws -> FileKey {
            let k = try FaultInjectingIO.key(fd: fd, path: path)
            if files[k] != nil { return k }
            #if os(Linux)
            let own = try PosixIO.Raw.openFile("/proc/self/fd/\(fd)", O_RDWR)
            #else
            let own = try PosixIO.Raw.openFile(path, O_RDWR)
            #endif
            return try track(ownDescriptor: own, path: path)
        }

        /// Takes ownership of `own` (closes it if the file is tracked already).
        mutating func track(ownDescriptor own: Int32, path: String) throws -> FileKey {
            let k: FileKey
            do { k = try FaultInjectingIO.key(fd: own, path: path) } catch { PosixIO.closeFile(own); throw error }
            if files[k] != nil {
                PosixIO.closeFile(own)
            } else {
                sequence += 1
                files[k] = FileRecord(fd: own, path: path, order: sequence)
            }
            return k
        }

        mutating func recordTruncate(_ k: FileKey, to length: UInt64) throws {
            let record = files[k]!
            let size = try PosixIO.fileSize(record.fd, path: record.path)
            let prior = length < size ? try PosixIO.readBytes(record.fd, count: Int(size - length), at: length, path: record.path) : []
            files[k]!.log.append(ContentUndo(offset: length, prior: prior, priorSize: size, written: 0))
        }

        mutating func recordEntry(in directory: String, _ undo: EntryUndo) throws {
            guard let k = try FaultInjectingIO.key(path: directory) else { return }
            sequence += 1
            dirs[k, default: DirectoryRecord(path: directory)].log.append(EntryOp(sequence: sequence, undo: undo))
        }

        /// A new name in the stash (earlier processes left theirs there too).
        mutating func stashName(_ prefix: String) -> String {
            stashed += 1
            return configuration!.stashDirectory + "/\(prefix)\(getpid())-\(stashed)"
        }

        /// A hard link to `path` in the stash; nil when `path` does not exist.
        mutating func stash(_ path: String) throws -> String? {
            while true {
                let name = stashName("")
                if link(path, name) == 0 { return name }
                if errno == EEXIST { continue }
                if errno == ENOENT { return nil }
                throw StoreError.posix("link", path: "\(path) -> \(name)", errno: errno)
            }
        }

        mutating func draw(_ range: ClosedRange<Int>) -> Int {
            guard var g = generator else { return range.lowerBound }
            defer { generator = g }
            return Int.random(in: range, using: &g)
        }

        /// Reverts every file and directory to its durable state and exits.
        mutating func cutPower() -> Never {
            let cutAt = operations
            let torn = draw(0...1) == 1
            var failures = 0
            var droppedBytes: UInt64 = 0
            var keptWrites = 0
            for record in files.values.sorted(by: { $0.order < $1.order }) {
                let log = record.log
                let keep = torn ? draw(0...log.count) : 0
                keptWrites += keep
                for i in (keep..<log.count).reversed() {
                    let u = log[i]
                    var kept = 0
                    if torn && i == keep && u.written > 1 { kept = draw(0...(u.written - 1)) }
                    droppedBytes += UInt64(u.written - kept)
                    failures += Self.undo(u, keepingNew: kept, fd: record.fd) ? 0 : 1
                }
            }
            var entries: [(directory: String, op: EntryOp)] = []
            for record in dirs.values { entries += record.log.map { (directory: record.path, op: $0) } }
            entries.sort { $0.op.sequence > $1.op.sequence }
            for (directory, op) in entries {
                failures += undo(op.undo, in: directory) ? 0 : 1
            }
            let line = "POWER-CUT op=\(cutAt) torn=\(torn ? 1 : 0) files=\(files.count) dropped-bytes=\(droppedBytes) kept-writes=\(keptWrites) entries=\(entries.count) failures=\(failures)\n"
            var bytes = Array(line.utf8)
            _ = write(2, &bytes, bytes.count)
            _exit(failures == 0 ? FaultInjectingIO.powerCutExitCode : FaultInjectingIO.revertFailedExitCode)
        }

        /// Undoes one write or truncate, leaving its first `keepingNew` bytes.
        static func undo(_ u: ContentUndo, keepingNew kept: Int, fd: Int32) -> Bool {
            do {
                if kept < u.prior.count {
                    try u.prior[kept...].withUnsafeBytes {
                        try PosixIO.Raw.pwriteFully(fd, $0, at: u.offset + UInt64(kept))
                    }
                }
                try PosixIO.Raw.truncateFile(fd, to: max(u.priorSize, kept > 0 ? u.offset + UInt64(kept) : 0))
                return true
            } catch {
                return false
            }
        }

        mutating func undo(_ u: EntryUndo, in directory: String) -> Bool {
            switch u {
            case .created(let name):
                let path = directory + "/" + name
                var st = stat()
                if lstat(path, &st) == 0, st.st_mode & mode_t(S_IFMT) == mode_t(S_IFDIR) { return moveToStash(path) }
                return unlink(path) == 0
            case .createdDirectory(let name):
                return moveToStash(directory + "/" + name)
            case .removed(let name, let stashed):
                return link(stashed, directory + "/" + name) == 0
            }
        }

        mutating func moveToStash(_ path: String) -> Bool {
            while true {
                let name = stashName("lost-")
                if access(name, F_OK) == 0 { continue }
                return rename(path, name) == 0
            }
        }
    }
}
#endif
