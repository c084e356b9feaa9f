// Thin, EINTR-safe wrappers over the POSIX calls the pack layer uses. Every
// failure becomes `StoreError.posix` naming the call and the path.
//
// Thread safety: stateless; safe from any thread (pread/pwrite take explicit
// offsets and never touch the shared file position).
// Invariants:
//   1. `preadFully`/`pwriteFully` loop on EINTR and on short transfers; a read
//      stops early only at end of file (returns fewer bytes), a write never
//      returns short (it throws).
//   2. Files are created 0644 and directories 0755 (before umask).
//   3. Every call that changes the disk (open with O_CREAT/O_TRUNC, pwrite,
//      ftruncate, fsync, fdatasync, rename, unlink, mkdir, directory fsync)
//      goes through `FaultInjectingIO` when a debug build enabled it (power-loss
//      tests); otherwise, and always in release builds, straight to `Raw`.
//      Off, the detour costs one relaxed atomic load. Reads are never diverted.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum PosixIO {
    static let fileMode: mode_t = 0o644
    static let directoryMode: mode_t = 0o755

    static func openFile(_ path: String, _ flags: Int32, create: Bool = false) throws -> Int32 {
        #if DEBUG
        if FaultInjectingIO.isEnabled, flags & (O_CREAT | O_TRUNC) != 0 {
            return try FaultInjectingIO.openFile(path, flags, create: create)
        }
        #endif
        return try Raw.openFile(path, flags, create: create)
    }

    /// Like `open` but returns nil on ENOENT.
    static func openFileIfExists(_ path: String, _ flags: Int32) throws -> Int32? {
        while true {
            let fd = open(path, flags | O_CLOEXEC)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            if errno == ENOENT { return nil }
            throw StoreError.posix("open", path: path, errno: errno)
        }
    }

    static func closeFile(_ fd: Int32) {
        // Linux: the descriptor is released even when close reports EINTR; never retry.
        _ = close(fd)
    }

    /// Reads up to `buffer.count` bytes at `offset`; fewer only at end of file.
    static func preadFully(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: UInt64, path: String = "") throws -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n > 0 { done += n; continue }
            if n == 0 { break }
            if errno == EINTR { continue }
            throw StoreError.posix("pread", path: path, errno: errno)
        }
        return done
    }

    static func readBytes(_ fd: Int32, count: Int, at offset: UInt64, path: String = "") throws -> [UInt8] {
        if count == 0 { return [] }
        var got = 0
        let bytes = try [UInt8](unsafeUninitializedCapacity: count) { buf, initialized in
            got = try preadFully(fd, UnsafeMutableRawBufferPointer(buf), at: offset, path: path)
            initialized = got
        }
        return bytes
    }

    static func pwriteFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: UInt64, path: String = "") throws {
        #if DEBUG
        if FaultInjectingIO.isEnabled { return try FaultInjectingIO.pwriteFully(fd, bytes, at: offset, path: path) }
        #endif
        try Raw.pwriteFully(fd, bytes, at: offset, path: path)
    }

    /// `site` names the call for power-loss tests that remove one sync on purpose.
    static func fsyncFile(_ fd: Int32, path: String = "", site: SyncSite? = nil) throws {
        #if DEBUG
        if FaultInjectingIO.isEnabled { return try FaultInjectingIO.syncFile(fd, path: path, data: false, site: site) }
        #endif
        try Raw.fsyncFile(fd, path: path)
    }

    static func fdatasyncFile(_ fd: Int32, path: String = "", site: SyncSite? = nil) throws {
        #if DEBUG
        if FaultInjectingIO.isEnabled { return try FaultInjectingIO.syncFile(fd, path: path, data: true, site: site) }
        #endif
        try Raw.fdatasyncFile(fd, path: path)
    }

    static func truncateFile(_ fd: Int32, to length: UInt64, path: String = "") throws {
        #if DEBUG
        if FaultInjectingIO.isEnabled { return try FaultInjectingIO.truncateFile(fd, to: length, path: path) }
        #endif
        try Raw.truncateFile(fd, to: length, path: path)
    }

    static func fileSize(_ fd: Int32, path: String = "") throws -> UInt64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw StoreError.posix("fstat", path: path, errno: errno) }
        return UInt64(st.st_size)
    }

    static func renameFile(_ from: String, _ to: String) throws {
        #if DEBUG
        if FaultInjectingIO.isEnabled { return try FaultInjectingIO.renameFile(from, to) }
        #endif
        try Raw.renameFile(from, to)
    }

    /// Returns false when the file did not exist.
    @discardableResult
    static func unlinkFile(_ path: String) throws -> Bool {
        #if DEBUG
        if FaultInjectingIO.isEnabled { return try FaultInjectingIO.unlinkFile(path) }
        #endif
        return try Raw.unlinkFile(path)
    }

    /// Returns false when the directory existed already.
    @discardableResult
    static func makeDirectory(_ path: String) throws -> Bool {
        #if DEBUG
        if FaultInjectingIO.isEnabled { return try FaultInjectingIO.makeDirectory(path) }
        #endif
        return try Raw.makeDirectory(path)
    }

    /// fsync of a directory: makes creations, renames and unlinks in it durable.
    static func syncDirectory(_ path: String, site: SyncSite? = nil) throws {
        #if DEBUG
        if FaultInjectingIO.isEnabled { return try FaultInjectingIO.syncDirectory(path, site: site) }
        #endif
        try Raw.syncDirectory(path)
    }

    /// Entry names of a directory, without `.` and `..`.
    static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw StoreError.posix("opendir", path: path, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw StoreError.posix("readdir", path: path, errno: errno) }
                break
            }
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The system calls themselves, never diverted (FaultInjectingIO uses them).
    enum Raw {
        static func openFile(_ path: String, _ flags: Int32, create: Bool = false) throws -> Int32 {
            while true {
                let fd = create ? open(path, flags | O_CLOEXEC, fileMode) : open(path, flags | O_CLOEXEC)
                if fd >= 0 { return fd }
                if errno == EINTR { continue }
                throw StoreError.posix("open", path: path, errno: errno)
            }
        }

        static func pwriteFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: UInt64, path: String = "") throws {
            var done = 0
            while done < bytes.count {
                let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
                if n > 0 { done += n; continue }
                if n < 0 && errno == EINTR { continue }
                throw StoreError.posix("pwrite", path: path, errno: n < 0 ? errno : EIO)
            }
        }

        static func fsyncFile(_ fd: Int32, path: String = "") throws {
            while fsync(fd) != 0 {
                if errno == EINTR { continue }
                throw StoreError.posix("fsync", path: path, errno: errno)
            }
        }

        static func fdatasyncFile(_ fd: Int32, path: String = "") throws {
            #if canImport(Glibc)
            while fdatasync(fd) != 0 {
                if errno == EINTR { continue }
                throw StoreError.posix("fdatasync", path: path, errno: errno)
            }
            #else
            try fsyncFile(fd, path: path)
            #endif
        }

        static func truncateFile(_ fd: Int32, to length: UInt64, path: String = "") throws {
            while ftruncate(fd, off_t(length)) != 0 {
                if errno == EINTR { continue }
                throw StoreError.posix("ftruncate", path: path, errno: errno)
            }
        }

        static func renameFile(_ from: String, _ to: String) throws {
            guard rename(from, to) == 0 else { throw StoreError.posix("rename", path: "\(from) -> \(to)", errno: errno) }
        }

        static func unlinkFile(_ path: String) throws -> Bool {
            if unlink(path) == 0 { return true }
            if errno == ENOENT { return false }
            throw StoreError.posix("unlink", path: path, errno: errno)
        }

        static func makeDirectory(_ path: String) throws -> Bool {
            if mkdir(path, directoryMode) == 0 { return true }
            if errno == EEXIST { return false }
            throw StoreError.posix("mkdir", path: path, errno: errno)
        }

        static func syncDirectory(_ path: String) throws {
            let fd = try openFile(path, O_RDONLY | O_DIRECTORY)
            defer { closeFile(fd) }
            try fsyncFile(fd, path: path)
        }
    }
}

/// A file descriptor closed when the last reference goes away, so a reader
/// that fetched it from a cache can finish its pread even if the pack is
/// removed (and the cache entry dropped) concurrently: no fd-number reuse race.
final class OwnedDescriptor: Sendable {
    let fd: Int32
    let path: String
    init(fd: Int32, path: String) { self.fd = fd; self.path = path }
    deinit { PosixIO.closeFile(fd) }
}

/// Little-endian field access shared by the header codecs.
enum LittleEndianBytes {
    static func put<T: FixedWidthInteger>(_ value: T, into bytes: inout [UInt8], at offset: Int) {
        var v = value.littleEndian
        withUnsafeBytes(of: &v) { raw in
            for i in 0..<raw.count { bytes[offset + i] = raw[i] }
        }
    }

    static func get<T: FixedWidthInteger>(_: T.Type, from bytes: [UInt8], at offset: Int) -> T {
        var v: T = 0
        for i in 0..<MemoryLayout<T>.size { v |= T(bytes[offset + i]) << (8 * i) }
        return v
    }
}
