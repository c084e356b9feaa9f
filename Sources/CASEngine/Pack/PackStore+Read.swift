// Read side of PackStore: ranged reads, descriptors for sendfile, header
// checks, full verification and sequential scans (fsck, index rebuild).
//
// Thread safety: everything here is lock-free apart from the descriptor-cache
// lookup; pread with explicit offsets is safe on a shared descriptor.
// Invariants:
//   1. Reads return ORIGINAL bytes: lz4 records are decompressed, ranges are
//      clamped to [0, rawLength).
//   2. A scan stops at the first record that fails header decode (.corrupt),
//      overruns the file or fails its payload CRC: everything before is valid,
//      `validEnd` is where the torn tail starts. `.unsupportedFormat` is
//      rethrown, never treated as a torn tail (a newer writer's data must not
//      be truncated by an older reader).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension PackStore {
    func read(_ location: BlobLocation, offset: UInt64, length: Int) throws -> [UInt8] {
        try read(location, file: try descriptorFor(location.packID), offset: offset, length: length)
    }

    /// As `read`, on a descriptor the caller holds (BlobReader keeps the one
    /// it opened, so compaction unlinking the pack cannot fail its reads).
    func read(_ location: BlobLocation, file: OwnedDescriptor, offset: UInt64, length: Int) throws -> [UInt8] {
        guard offset < location.rawLength, length > 0 else { return [] }
        let count = Int(min(UInt64(length), location.rawLength - offset))
        if location.flags.contains(.lz4) {
            let raw = try LZ4Block.decompress(try readStored(location, file: file), rawLength: Int(location.rawLength))
            return Array(raw[Int(offset)..<(Int(offset) + count)])
        }
        let bytes = try PosixIO.readBytes(file.fd, count: count, at: location.payloadOffset + offset, path: file.path)
        guard bytes.count == count else {
            throw StoreError(.corrupt, "\(file.path): record at \(location.recordOffset) runs past end of file")
        }
        return bytes
    }

    func readAll(_ location: BlobLocation) throws -> [UInt8] {
        try readAll(location, file: try descriptorFor(location.packID))
    }

    func readAll(_ location: BlobLocation, file: OwnedDescriptor) throws -> [UInt8] {
        guard location.rawLength <= UInt64(Int.max) else { throw StoreError(.limitExceeded, "blob too large to read whole") }
        return try read(location, file: file, offset: 0, length: Int(location.rawLength))
    }

    func duplicateDescriptor(_ location: BlobLocation) throws -> Int32 {
        try duplicateDescriptor(try descriptorFor(location.packID))
    }

    func duplicateDescriptor(_ file: OwnedDescriptor) throws -> Int32 {
        let fd = fcntl(file.fd, F_DUPFD_CLOEXEC, 0)
        guard fd >= 0 else { throw StoreError.posix("dup", path: file.path, errno: errno) }
        return fd
    }

    func readHeader(_ location: BlobLocation) throws -> PackRecordHeader {
        try readHeader(location, file: try descriptorFor(location.packID))
    }

    func readHeader(_ location: BlobLocation, file: OwnedDescriptor) throws -> PackRecordHeader {
        let bytes = try PosixIO.readBytes(file.fd, count: PackRecordHeader.size, at: location.recordOffset, path: file.path)
        let header = try PackRecordHeader.decode(bytes)
        guard header.storedLength == location.storedLength, header.rawLength == location.rawLength,
              header.flags == location.flags
        else {
            throw StoreError(.corrupt, "\(file.path) @\(location.recordOffset): header (stored \(header.storedLength), raw \(header.rawLength), flags \(header.flags.rawValue)) does not match index (stored \(location.storedLength), raw \(location.rawLength), flags \(location.flags.rawValue))")
        }
        return header
    }

    /// Header check, payload CRC and a re-hash of the original bytes.
    func verify(_ location: BlobLocation, digest: BlobDigest) throws {
        let header = try readHeader(location)
        guard header.digest == digest else {
            throw StoreError(.corrupt, "pack \(location.packID) @\(location.recordOffset): header digest \(header.digest) != \(digest)")
        }
        let file = try descriptorFor(location.packID)
        let hasher = StreamingHasher(digest.algorithm)
        var crc: UInt32 = 0
        if location.flags.contains(.lz4) {
            let stored = try readStored(location, file: file)
            crc = CRC32C.checksum(stored)
            guard crc == header.payloadCRC else { throw payloadCRCError(location, header.payloadCRC, crc) }
            hasher.update(try LZ4Block.decompress(stored, rawLength: Int(location.rawLength)))
        } else {
            do {
                try UploadFile.forEachChunk(fd: file.fd, path: file.path, from: location.payloadOffset,
                                            to: location.payloadOffset + location.storedLength) { chunk in
                    crc = CRC32C.checksum(chunk, seed: crc)
                    hasher.update(chunk)
                }
            }
            guard crc == header.payloadCRC else { throw payloadCRCError(location, header.payloadCRC, crc) }
        }
        let actual = hasher.finalize()
        guard actual == digest else {
            throw StoreError(.corrupt, "pack \(location.packID) @\(location.recordOffset): content hashes to \(actual), expected \(digest)")
        }
    }

    private func payloadCRCError(_ location: BlobLocation, _ expected: UInt32, _ actual: UInt32) -> StoreError {
        StoreError(.corrupt, "pack \(location.packID) @\(location.recordOffset): payload CRC \(crcHex(actual)) != header \(crcHex(expected))")
    }

    private func readStored(_ location: BlobLocation, file: OwnedDescriptor) throws -> [UInt8] {
        guard location.storedLength <= UInt64(LZ4Block.maximumInput) else {
            throw StoreError(.corrupt, "pack \(location.packID) @\(location.recordOffset): lz4 record too large")
        }
        let count = Int(location.storedLength)
        let bytes = try PosixIO.readBytes(file.fd, count: count, at: location.payloadOffset, path: file.path)
        guard bytes.count == count else {
            throw StoreError(.corrupt, "\(file.path): record at \(location.recordOffset) runs past end of file")
        }
        return bytes
    }

    /// Every valid record of the pack, in file order.
    @discardableResult
    func scan(packID: UInt32, _ body: (PackRecordHeader, BlobLocation) throws -> Void) throws -> PackScanResult {
        try PackStore.scanRecords(file: try descriptorFor(packID), expectedID: packID) { header, offset in
            try body(header, BlobLocation(packID: packID, recordOffset: offset, storedLength: header.storedLength,
                                          rawLength: header.rawLength, flags: header.flags))
        }
    }

    static func scanRecords(file: OwnedDescriptor, expectedID: UInt32,
                            body: (PackRecordHeader, UInt64) throws -> Void) throws -> PackScanResult {
        let fd = file.fd
        let size = try PosixIO.fileSize(fd, path: file.path)
        let prefix = try PosixIO.readBytes(fd, count: PackFileHeader.size, at: 0, path: file.path)
        guard let kind = PackKind.detect(prefix) else {
            throw StoreError(.corrupt, "\(file.path): not a pack file (bad magic)")
        }
        if kind == .shared {
            let header = try PackFileHeader.decode(prefix)
            guard header.packID == expectedID else {
                throw StoreError(.corrupt, "\(file.path): file header names pack \(header.packID)")
            }
        }
        var offset = kind.firstRecordOffset
        var count = 0
        let headerSize = UInt64(PackRecordHeader.size)
        while size - offset >= headerSize {
            let bytes = try PosixIO.readBytes(fd, count: PackRecordHeader.size, at: offset, path: file.path)
            let header: PackRecordHeader
            do {
                header = try PackRecordHeader.decode(bytes)
            } catch let error as StoreError where error.code == .corrupt {
                break
            }
            if kind == .dedicated && (offset != 0 || !header.flags.contains(.dedicated)) { break }
            // An aligned record's payload starts 4096 bytes in, not right after the header.
            let gap = PackRecordHeader.payloadGap(header.flags)
            guard size - offset >= gap, header.storedLength <= size - offset - gap else { break }
            var crc: UInt32 = 0
            try UploadFile.forEachChunk(fd: fd, path: file.path, from: offset + gap,
                                        to: offset + gap + header.storedLength) { crc = CRC32C.checksum($0, seed: crc) }
            guard crc == header.payloadCRC else { break }
            try body(header, offset)
            count += 1
            offset += gap + header.storedLength
        }
        return PackScanResult(kind: kind, validEnd: offset, fileSize: size, recordCount: count)
    }
    /// Offset of the first byte range after `start` that decodes as a record
    /// header with a valid CRC (or a newer version), nil if none. Used at open
    /// to tell a torn tail (nothing valid follows) from damage in the middle of
    /// a pack (acknowledged records may follow: never truncate those).
    static func findRecordHeader(file: OwnedDescriptor, after start: UInt64, fileSize: UInt64) throws -> UInt64? {
        let headerSize = UInt64(PackRecordHeader.size)
        guard fileSize > start + 1, fileSize - start - 1 >= headerSize else { return nil }
        let chunk = 1 << 20
        var base = start + 1
        while base + headerSize <= fileSize {
            let count = Int(min(UInt64(chunk) + 3, fileSize - base))
            let bytes = try PosixIO.readBytes(file.fd, count: count, at: base, path: file.path)
            var i = 0
            while i + 4 <= bytes.count {
                if bytes[i] == 0x42 && bytes[i + 1] == 0x52 && bytes[i + 2] == 0x45 && bytes[i + 3] == 0x43 {
                    let at = base + UInt64(i)
                    if at + headerSize <= fileSize {
                        let h = try PosixIO.readBytes(file.fd, count: PackRecordHeader.size, at: at, path: file.path)
                        do {
                            _ = try PackRecordHeader.decode(h)
                            return at
                        } catch let e as StoreError where e.code == .unsupportedFormat {
                            return at
                        } catch {}
                    }
                }
                i += 1
            }
            base += UInt64(chunk)
        }
        return nil
    }
}
