// The pack layer: append-only pack files of (header, payload) records.
// Small blobs are group-committed into the active shared pack; large ones
// become dedicated packs by renaming their upload file. Format: FORMAT.md.
//
// Thread safety: all public methods may be called from any thread.
//   - `writeLock` serialises writers of the active shared pack (appendBatch,
//     roll-over, removePack of the active pack). Readers never take it.
//   - `stateLock` guards `nextPackID`, the descriptor cache and the report; it
//     is held only for dictionary/counter updates, never across pread/fsync
//     (except the open(2) of a not-yet-cached pack).
//   - Readers pread on a `OwnedDescriptor` they retain, so a concurrent
//     removePack/cache eviction cannot close (and let the kernel reuse) the
//     fd number under them.
// Invariants:
//   1. Pack ids are allocated monotonically (max existing + 1 at open) and never
//      handed out twice by one PackStore.
//   2. appendBatch returns only after the records' bytes are fdatasync'd; a
//      shared pack file exists with a complete, synced file header and a
//      synced directory entry before its first record is written.
//   3. `active.end` is the offset just past the last acknowledged record; bytes
//      past it are garbage to be overwritten or truncated.
//   4. A failed fdatasync seals the active pack (never written again): after
//      such a failure the page-cache state of the file is unknown (fsyncgate).
//   5. At open, only the highest-id shared pack can have a torn tail (older
//      shared packs were fully synced before the roll-over); it is truncated
//      to its last valid record before anything is appended.
//   6. Open never truncates bytes that are followed by a valid record header:
//      that is damage inside the pack, not a torn tail. Such a pack is
//      reported (`damaged`) and sealed; new records go to a new pack.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Metrics

// @unchecked Sendable: `active` is accessed only under `writeLock`;
// `nextPackID`, `descriptors` and `report` only under `stateLock`; the other
// stored properties are immutable lets of Sendable types.
final class PackStore: @unchecked Sendable {
    let layout: StorageLayout
    let maxSharedPackSize: UInt64
    let compression: Bool
    /// fsync timings (nil: not recorded, as in the pack-level tests).
    let metrics: EngineMetrics?

    private struct ActivePack {
        var id: UInt32
        var file: OwnedDescriptor
        var end: UInt64

        /// Full once it has reached the limit; a pack without records is never
        /// full, so a record larger than the limit still lands somewhere.
        func isFull(_ limit: UInt64, pending: Int) -> Bool {
            let end = self.end + UInt64(pending)
            return end >= limit && end > UInt64(PackFileHeader.size)
        }
    }

    private let writeLock = NSLock()
    private var active: ActivePack?

    private let stateLock = NSLock()
    private var nextPackID: UInt32 = 1
    private var descriptors: [UInt32: OwnedDescriptor] = [:]
    private var report = PackRecoveryReport()
    static let descriptorCacheLimit = 512

    /// `readOnly`: changes nothing on disk (no temporary file removed, no
    /// torn tail truncated: both are reported) and never writes.
    init(layout: StorageLayout, maxSharedPackSize: UInt64, compression: Bool, metrics: EngineMetrics? = nil,
         readOnly: Bool = false) throws {
        self.layout = layout
        self.metrics = metrics
        self.maxSharedPackSize = maxSharedPackSize
        self.compression = compression
        if !readOnly { try layout.createDirectories() }

        var removedTemp: [String] = []
        for name in try PosixIO.listDirectory(layout.packsDirectory) where name.hasSuffix(StorageLayout.packSuffix + ".tmp") {
            guard !readOnly else { continue }
            try PosixIO.unlinkFile(layout.packsDirectory + "/" + name)
            removedTemp.append(name)
        }
        if !removedTemp.isEmpty { try PosixIO.syncDirectory(layout.packsDirectory) }
        report.removedTemporaryFiles = removedTemp

        let ids = try packIDs()
        nextPackID = (ids.last ?? 0) &+ 1
        if ids.last == UInt32.max { nextPackID = UInt32.max } // allocate() refuses

        for id in ids.reversed() {
            let path = layout.packPath(id)
            let fd = try PosixIO.openFile(path, readOnly ? O_RDONLY : O_RDWR)
            let file = OwnedDescriptor(fd: fd, path: path)
            let prefix = try PosixIO.readBytes(fd, count: PackFileHeader.size, at: 0, path: path)
            switch PackKind.detect(prefix) {
            case .dedicated?:
                continue
            case nil:
                report.unrecognized.append(id)
                continue
            case .shared?:
                break
            }
            let result = try PackStore.scanRecords(file: file, expectedID: id) { _, _ in }
            if result.validEnd < result.fileSize,
               let next = try PackStore.findRecordHeader(file: file, after: result.validEnd, fileSize: result.fileSize) {
                // Not a torn tail: a valid record header follows the damage.
                // Leave the bytes for fsck and seal the pack (invariant 6).
                report.damaged.append(.init(packID: id, fromOffset: result.validEnd, nextValidHeader: next))
                break
            }
            if result.validEnd < result.fileSize && readOnly {
                report.tornTailsLeft.append(.init(packID: id, fromOffset: result.validEnd, bytes: result.fileSize - result.validEnd))
                break
            }
            if result.validEnd < result.fileSize {
                try PosixIO.truncateFile(fd, to: result.validEnd, path: path)
                try PosixIO.fsyncFile(fd, path: path)
                report.truncated.append(.init(packID: id, fromOffset: result.validEnd,
                                              bytes: result.fileSize - result.validEnd))
            }
            if result.validEnd < maxSharedPackSize && !readOnly {
                active = ActivePack(id: id, file: file, end: result.validEnd)
                descriptors[id] = file
            }
            break // only the highest shared pack can be torn (invariant 5)
        }
    }

    var recoveryReport: PackRecoveryReport { stateLock.withLock { report } }

    /// Raises the next pack id to at least `id`. Pack ids found on disk are
    /// only a lower bound after the highest pack was removed; the metadata
    /// layer passes its persisted high-water mark here at open so an id is
    /// never reused across restarts.
    func ensureNextPackID(atLeast id: UInt32) {
        stateLock.withLock { nextPackID = max(nextPackID, id) }
    }

    /// The id the next new pack will get (for the metadata layer's high-water mark).
    var nextPackIDHint: UInt32 { stateLock.withLock { nextPackID } }

    // MARK: Pack ids and files

    func packIDs() throws -> [UInt32] {
        try PosixIO.listDirectory(layout.packsDirectory).compactMap(StorageLayout.packID(fromFileName:)).sorted()
    }

    func allocatePackID() throws -> UInt32 {
        try stateLock.withLock {
            guard nextPackID < UInt32.max else { throw StoreError(.limitExceeded, "pack ids exhausted") }
            defer { nextPackID += 1 }
            return nextPackID
        }
    }

    func descriptorFor(_ id: UInt32) throws -> OwnedDescriptor {
        try stateLock.withLock {
            if let d = descriptors[id] { return d }
            let path = layout.packPath(id)
            guard let fd = try PosixIO.openFileIfExists(path, O_RDONLY) else {
                throw StoreError(.blobUnknown, "pack \(id) does not exist (\(path))")
            }
            let d = OwnedDescriptor(fd: fd, path: path)
            if descriptors.count >= PackStore.descriptorCacheLimit {
                // Eviction only drops our reference; in-flight readers keep theirs.
                descriptors.remove(at: descriptors.startIndex)
            }
            descriptors[id] = d
            return d
        }
    }

    private func cache(_ file: OwnedDescriptor, for id: UInt32) {
        stateLock.withLock { descriptors[id] = file }
    }

    /// Creates a new shared pack: tmp file, header, fsync, rename, fsync dir
    /// (a crash leaves either nothing or a stray .tmp, never a headerless pack).
    private func createSharedPack() throws -> ActivePack {
        let id = try allocatePackID()
        let path = layout.packPath(id)
        let tmp = path + ".tmp"
        let fd = try PosixIO.openFile(tmp, O_RDWR | O_CREAT | O_TRUNC, create: true)
        let file = OwnedDescriptor(fd: fd, path: path)
        do {
            try PackFileHeader(packID: id).encode().withUnsafeBytes {
                try PosixIO.pwriteFully(fd, $0, at: 0, path: tmp)
            }
            try PosixIO.fsyncFile(fd, path: tmp)
            try PosixIO.renameFile(tmp, path)
            try PosixIO.syncDirectory(layout.packsDirectory)
        } catch {
            _ = try? PosixIO.unlinkFile(tmp)
            throw error
        }
        cache(file, for: id)
        return ActivePack(id: id, file: file, end: UInt64(PackFileHeader.size))
    }

    /// Reads the active pack's id under the write lock.
    func withActive<T>(_ body: (UInt32?) -> T) -> T {
        writeLock.withLock { body(active?.id) }
    }

    func removePack(_ id: UInt32) throws {
        writeLock.withLock {
            if active?.id == id { active = nil }
        }
        stateLock.withLock { _ = descriptors.removeValue(forKey: id) }
        if try PosixIO.unlinkFile(layout.packPath(id)) {
            try PosixIO.syncDirectory(layout.packsDirectory)
        }
    }

    // MARK: Group commit

    private struct EncodedRecord {
        var bytes: [UInt8]
        var storedLength: UInt64
        var rawLength: UInt64
        var flags: RecordFlags
    }

    private func encodeRecord(digest: BlobDigest, bytes: [UInt8]) -> EncodedRecord {
        var flags: RecordFlags = []
        var payload = bytes
        if compression, let compressed = LZ4Block.compressIfWorthwhile(bytes) {
            payload = compressed
            flags.insert(.lz4)
        }
        let header = PackRecordHeader(flags: flags, digest: digest, storedLength: UInt64(payload.count),
                                      rawLength: UInt64(bytes.count), payloadCRC: CRC32C.checksum(payload))
        var record = header.encode()
        record.append(contentsOf: payload)
        return EncodedRecord(bytes: record, storedLength: UInt64(payload.count), rawLength: UInt64(bytes.count), flags: flags)
    }

    /// Appends every blob as one record, syncs once per pack touched, then
    /// returns the locations in input order. The caller has verified digests.
    func appendBatch(_ blobs: [(digest: BlobDigest, bytes: [UInt8])]) throws -> [BlobLocation] {
        if blobs.isEmpty { return [] }
        // Compression happens outside the write lock.
        let records = blobs.map { encodeRecord(digest: $0.digest, bytes: $0.bytes) }
        return try writeLock.withLock {
            var locations: [BlobLocation] = []
            locations.reserveCapacity(records.count)
            var pack = try currentActive()
            var pending: [UInt8] = []
            for record in records {
                if pack.isFull(maxSharedPackSize, pending: pending.count) {
                    try flush(&pack, &pending)
                    pack = try createSharedPack()
                    active = pack
                }
                locations.append(BlobLocation(packID: pack.id, recordOffset: pack.end + UInt64(pending.count),
                                              storedLength: record.storedLength, rawLength: record.rawLength,
                                              flags: record.flags))
                pending.append(contentsOf: record.bytes)
            }
            try flush(&pack, &pending)
            return locations
        }
    }

    /// Caller holds writeLock.
    private func currentActive() throws -> ActivePack {
        if let a = active, !a.isFull(maxSharedPackSize, pending: 0) { return a }
        let a = try createSharedPack()
        active = a
        return a
    }

    /// Caller holds writeLock. Writes `pending` at the pack's end and syncs.
    private func flush(_ pack: inout ActivePack, _ pending: inout [UInt8]) throws {
        guard !pending.isEmpty else { return }
        let fd = pack.file.fd
        do {
            try pending.withUnsafeBytes { try PosixIO.pwriteFully(fd, $0, at: pack.end, path: pack.file.path) }
        } catch {
            try? PosixIO.truncateFile(fd, to: pack.end, path: pack.file.path)
            throw error
        }
        do {
            try failpoint(.packBeforeSync)
            try timed(metrics?.fsyncPack) { try PosixIO.fdatasyncFile(fd, path: pack.file.path, site: .packFlush) }
        } catch {
            active = nil // invariant 4: sealed
            throw error
        }
        pack.end += UInt64(pending.count)
        pending.removeAll(keepingCapacity: true)
        active = pack
    }

    // MARK: Uploads

    private func checkedUploadPath(_ id: String) throws -> String {
        guard StorageLayout.isValidUploadID(id) else { throw StoreError(.invalidArgument, "bad upload id \(id)") }
        return layout.uploadPath(id)
    }

    func createUploadFile(id: String) throws -> UploadFile {
        let upload = try UploadFile.create(id: id, path: try checkedUploadPath(id))
        try PosixIO.syncDirectory(layout.uploadsDirectory)
        return upload
    }

    func openUploadFile(id: String) throws -> UploadFile? {
        try UploadFile.open(id: id, path: try checkedUploadPath(id))
    }

    func removeUploadFile(id: String) {
        guard StorageLayout.isValidUploadID(id) else { return }
        _ = try? PosixIO.unlinkFile(layout.uploadPath(id))
    }

    func uploadFileIDs() throws -> [String] {
        try PosixIO.listDirectory(layout.uploadsDirectory).filter(StorageLayout.isValidUploadID).sorted()
    }

    /// Turns the upload file into a dedicated pack in place (header at offset 0,
    /// fsync, rename, fsync both directories). Precondition: the caller verified
    /// that the payload hashes to `digest` (UploadFile.digest), so it is not
    /// hashed again here. The upload is consumed (closed) on success.
    func commitDedicated(_ upload: UploadFile, digest: BlobDigest) throws -> BlobLocation {
        let location = try upload.withOpenDescriptor { fd, length, crc -> BlobLocation in
            let header = PackRecordHeader(flags: .dedicated, digest: digest, storedLength: length,
                                          rawLength: length, payloadCRC: crc)
            try header.encode().withUnsafeBytes { try PosixIO.pwriteFully(fd, $0, at: 0, path: upload.path) }
            try timed(metrics?.fsyncDedicated) { try PosixIO.fsyncFile(fd, path: upload.path, site: .dedicatedPackFile) }
            let id = try allocatePackID()
            try PosixIO.renameFile(upload.path, layout.packPath(id))
            try PosixIO.syncDirectory(layout.packsDirectory, site: .dedicatedPackDirectory)
            try PosixIO.syncDirectory(layout.uploadsDirectory)
            return BlobLocation(packID: id, recordOffset: 0, storedLength: length, rawLength: length, flags: .dedicated)
        }
        let fd = upload.detachDescriptor()
        if fd >= 0 { cache(OwnedDescriptor(fd: fd, path: layout.packPath(location.packID)), for: location.packID) }
        return location
    }
}

extension PackStore {
    /// Times an fsync onto `timer` when there is one.
    func timed(_ timer: Metrics.Timer?, _ body: () throws -> Void) rethrows {
        if let timer { try EngineMetrics.time(timer, body) } else { try body() }
    }
}
