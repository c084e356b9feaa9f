// An in-progress upload: a file under uploads/ whose first
// PackRecordHeader.size bytes are reserved (zero) so that, on commit, the
// header is written in place and the file is renamed into packs/ as a
// dedicated pack — the payload is never copied.
//
// Thread safety: all mutable state (length, hasher, CRC, fd) is guarded by
// `lock`, so concurrent calls are memory-safe; the facade additionally keeps
// one writer per session, so appends are never interleaved meaningfully.
// Invariants:
//   1. File size == PackRecordHeader.size + `length` after every append returns.
//   2. `sha256` and `crc` cover exactly payload bytes [0, length): they are fed
//      in append order, and rebuilt by reading the payload on resume.
//   3. After `close()` (or consumption by commitDedicated) every call throws .closed.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

// @unchecked Sendable: every stored var (fd, _length, sha256, crc) is read and
// written only while holding `lock` (an NSLock), and the non-Sendable
// StreamingHasher never escapes this object; `id` and `path` are immutable lets.
final class UploadFile: @unchecked Sendable {
    let id: String
    let path: String
    private let lock = NSLock()
    private var fd: Int32
    private var _length: UInt64
    private var sha256: StreamingHasher
    private var crc: UInt32

    private init(id: String, path: String, fd: Int32, length: UInt64, sha256: StreamingHasher, crc: UInt32) {
        self.id = id
        self.path = path
        self.fd = fd
        self._length = length
        self.sha256 = sha256
        self.crc = crc
    }

    deinit { if fd >= 0 { PosixIO.closeFile(fd) } }

    static let headerSpace = UInt64(PackRecordHeader.size)
    static let readChunk = 1 << 20

    /// O_CREAT|O_EXCL; reserves the header space.
    static func create(id: String, path: String) throws -> UploadFile {
        let fd = try PosixIO.openFile(path, O_RDWR | O_CREAT | O_EXCL, create: true)
        do {
            try PosixIO.truncateFile(fd, to: headerSpace, path: path)
        } catch {
            PosixIO.closeFile(fd)
            _ = try? PosixIO.unlinkFile(path)
            throw error
        }
        return UploadFile(id: id, path: path, fd: fd, length: 0, sha256: StreamingHasher(.sha256), crc: 0)
    }

    /// Reopens after a restart, rebuilding hash and CRC from the payload; nil if absent.
    static func open(id: String, path: String) throws -> UploadFile? {
        guard let fd = try PosixIO.openFileIfExists(path, O_RDWR) else { return nil }
        do {
            var size = try PosixIO.fileSize(fd, path: path)
            if size < headerSpace {
                // Crash between create and the header-space reservation.
                try PosixIO.truncateFile(fd, to: headerSpace, path: path)
                size = headerSpace
            }
            let hasher = StreamingHasher(.sha256)
            var crc: UInt32 = 0
            try forEachChunk(fd: fd, path: path, from: headerSpace, to: size) { chunk in
                hasher.update(chunk)
                crc = CRC32C.checksum(chunk, seed: crc)
            }
            return UploadFile(id: id, path: path, fd: fd, length: size - headerSpace, sha256: hasher, crc: crc)
        } catch {
            PosixIO.closeFile(fd)
            throw error
        }
    }

    static func forEachChunk(fd: Int32, path: String, from start: UInt64, to end: UInt64,
                             _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard end > start else { return }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: readChunk, alignment: 16)
        defer { buffer.deallocate() }
        var offset = start
        while offset < end {
            let want = Int(min(UInt64(readChunk), end - offset))
            let got = try PosixIO.preadFully(fd, UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]), at: offset, path: path)
            guard got == want else { throw StoreError(.corrupt, "\(path): short file (expected \(end) bytes)") }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
            offset += UInt64(got)
        }
    }

    private func openFD() throws -> Int32 {
        guard fd >= 0 else { throw StoreError(.closed, "upload \(id) is closed") }
        return fd
    }

    var length: UInt64 { lock.withLock { _length } }

    /// Payload CRC32C so far (the record header's payload CRC at commit).
    var payloadCRC: UInt32 { lock.withLock { crc } }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        try lock.withLock {
            let fd = try openFD()
            guard bytes.count > 0 else { return }
            do {
                try PosixIO.pwriteFully(fd, bytes, at: UploadFile.headerSpace + _length, path: path)
            } catch {
                // Keep invariant 1: drop whatever part of the chunk landed.
                try? PosixIO.truncateFile(fd, to: UploadFile.headerSpace + _length, path: path)
                throw error
            }
            sha256.update(bytes)
            crc = CRC32C.checksum(bytes, seed: crc)
            _length += UInt64(bytes.count)
        }
    }

    func append(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try append($0) } }

    func digest(_ algorithm: DigestAlgorithm) throws -> BlobDigest {
        try lock.withLock {
            let fd = try openFD()
            switch algorithm {
            case .sha256:
                return sha256.snapshotDigest()
            case .sha512:
                let h = StreamingHasher(.sha512)
                try UploadFile.forEachChunk(fd: fd, path: path, from: UploadFile.headerSpace,
                                            to: UploadFile.headerSpace + _length) { h.update($0) }
                return h.finalize()
            }
        }
    }

    func readPayload() throws -> [UInt8] {
        try lock.withLock {
            let fd = try openFD()
            guard _length <= UInt64(Int.max) else { throw StoreError(.limitExceeded, "upload too large to read whole") }
            let bytes = try PosixIO.readBytes(fd, count: Int(_length), at: UploadFile.headerSpace, path: path)
            guard bytes.count == Int(_length) else { throw StoreError(.corrupt, "\(path): shorter than its length") }
            return bytes
        }
    }

    /// Cuts the payload back to `newLength` (e.g. the offset the metadata
    /// layer acknowledged before a crash) and rebuilds hash and CRC state.
    func truncate(to newLength: UInt64) throws {
        try lock.withLock {
            let fd = try openFD()
            guard newLength <= _length else {
                throw StoreError(.invalidArgument, "upload \(id): cannot truncate \(_length) bytes to \(newLength)")
            }
            if newLength == _length { return }
            try PosixIO.truncateFile(fd, to: UploadFile.headerSpace + newLength, path: path)
            let hasher = StreamingHasher(.sha256)
            var crc: UInt32 = 0
            try UploadFile.forEachChunk(fd: fd, path: path, from: UploadFile.headerSpace,
                                        to: UploadFile.headerSpace + newLength) { chunk in
                hasher.update(chunk)
                crc = CRC32C.checksum(chunk, seed: crc)
            }
            sha256 = hasher
            self.crc = crc
            _length = newLength
        }
    }

    func sync() throws {
        try lock.withLock { try PosixIO.fdatasyncFile(try openFD(), path: path) }
    }

    func close() {
        lock.withLock {
            if fd >= 0 { PosixIO.closeFile(fd); fd = -1 }
        }
    }

    /// Hands the descriptor over (commitDedicated); the upload is closed afterwards.
    func withOpenDescriptor<T>(_ body: (Int32, UInt64, UInt32) throws -> T) throws -> T {
        try lock.withLock { try body(try openFD(), _length, crc) }
    }

    /// Takes ownership of the descriptor away from this object.
    func detachDescriptor() -> Int32 {
        lock.withLock { let d = fd; fd = -1; return d }
    }
}
