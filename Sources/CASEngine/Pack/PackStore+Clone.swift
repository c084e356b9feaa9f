// Reflink import of a large blob: the source file's extents are shared into
// a new dedicated pack (Linux FICLONERANGE) instead of copying its bytes.
// The pack is `dedicated|aligned` (FORMAT.md "Aligned dedicated packs"):
// header at 0, payload at 4096 so the clone's destination is block-aligned.
//
// Thread safety: touches only its own temporary file and a freshly allocated
// pack id; may be called from any thread, concurrently with anything.
// Invariants:
//   1. The temporary file lives under uploads/ with an upload-id name and no
//      session record, so a crash before the rename leaves an orphan upload
//      file that the next open removes (Store.recoverUploads).
//   2. Nothing is renamed into packs/ unless the CLONED bytes (read back from
//      the new file, not from the source) hash to the digest; on any failure
//      the temporary file is removed.
//   3. Order: clone, hash, header, fsync(file), rename, fsync(packs/),
//      fsync(uploads/) — the caller indexes only after this returns.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum CloneAttempt {
    case cloned(BlobLocation)
    /// The file system cannot share extents here; nothing was left behind.
    case unsupported(String)
}

extension PackStore {
    /// `_IOW(0x94, 13, struct file_clone_range)` (linux/fs.h).
    static let ficloneRange: UInt = 0x4020_940D

    /// Clones all `length` bytes of `source` into a new aligned dedicated pack.
    /// Throws `.digestMismatch` (file removed) when they do not hash to `digest`.
    func commitClone(source: Int32, sourcePath: String, length: UInt64, digest: BlobDigest,
                     temporaryID: String) throws -> CloneAttempt {
        guard StorageLayout.isValidUploadID(temporaryID) else {
            throw StoreError(.invalidArgument, "bad temporary id \(temporaryID)")
        }
        let tmp = layout.uploadPath(temporaryID)
        let gap = PackRecordHeader.alignedPayloadGap
        let fd = try PosixIO.openFile(tmp, O_RDWR | O_CREAT | O_EXCL, create: true)
        var renamed = false
        defer {
            PosixIO.closeFile(fd)
            if !renamed { _ = try? PosixIO.unlinkFile(tmp) }
        }
        try PosixIO.truncateFile(fd, to: gap, path: tmp)
        if let reason = try Self.cloneRange(from: source, sourcePath: sourcePath, length: length, into: fd, at: gap) {
            return .unsupported(reason)
        }
        let size = try PosixIO.fileSize(fd, path: tmp)
        guard size == gap + length else {
            throw StoreError(.io, "\(tmp): clone of \(sourcePath) gave \(size - gap) bytes, expected \(length) (source changed?)")
        }
        let hasher = StreamingHasher(digest.algorithm)
        var crc: UInt32 = 0
        try UploadFile.forEachChunk(fd: fd, path: tmp, from: gap, to: gap + length) { chunk in
            hasher.update(chunk)
            crc = CRC32C.checksum(chunk, seed: crc)
        }
        let actual = hasher.finalize()
        guard actual == digest else {
            throw StoreError(.digestMismatch, "\(sourcePath) hashes to \(actual), not \(digest)")
        }
        let flags: RecordFlags = [.dedicated, .aligned]
        let header = PackRecordHeader(flags: flags, digest: digest, storedLength: length, rawLength: length, payloadCRC: crc)
        try header.encode().withUnsafeBytes { try PosixIO.pwriteFully(fd, $0, at: 0, path: tmp) }
        try timed(metrics?.fsyncDedicated) { try PosixIO.fsyncFile(fd, path: tmp, site: .dedicatedPackFile) }
        let id = try allocatePackID()
        try PosixIO.renameFile(tmp, layout.packPath(id))
        renamed = true
        try PosixIO.syncDirectory(layout.packsDirectory, site: .dedicatedPackDirectory)
        try PosixIO.syncDirectory(layout.uploadsDirectory)
        return .cloned(BlobLocation(packID: id, recordOffset: 0, storedLength: length, rawLength: length, flags: flags))
    }

    /// st_dev and size of an open file.
    static func deviceAndSize(fd: Int32, path: String) throws -> (UInt64, UInt64) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw StoreError.posix("fstat", path: path, errno: errno) }
        return (UInt64(st.st_dev), UInt64(st.st_size))
    }

    /// st_dev of a path (the storage root's uploads/ directory).
    static func device(path: String) throws -> UInt64 {
        var st = stat()
        guard stat(path, &st) == 0 else { throw StoreError.posix("stat", path: path, errno: errno) }
        return UInt64(st.st_dev)
    }

    /// FICLONERANGE of the whole source to `offset` of `dest`. Returns the
    /// reason when the file system cannot do it (the caller copies instead);
    /// throws other errors.
    static func cloneRange(from source: Int32, sourcePath: String, length: UInt64, into dest: Int32,
                           at offset: UInt64) throws -> String? {
        #if os(Linux)
        // struct file_clone_range { __s64 src_fd; __u64 src_offset, src_length, dest_offset; }
        var range: (Int64, UInt64, UInt64, UInt64) = (Int64(source), 0, length, offset)
        let rc = withUnsafeMutableBytes(of: &range) { ioctl(dest, ficloneRange, $0.baseAddress!) }
        if rc == 0 { return nil }
        let err = errno
        switch err {
        case EOPNOTSUPP, EXDEV, EINVAL, ENOTTY, ENOSYS:
            return "the file system refuses a reflink (FICLONERANGE: \(String(cString: strerror(err))))"
        default:
            throw StoreError.posix("FICLONERANGE", path: sourcePath, errno: err)
        }
        #else
        return "reflink import needs Linux FICLONERANGE"
        #endif
    }
}
