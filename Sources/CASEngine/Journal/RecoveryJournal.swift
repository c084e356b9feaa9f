// The recovery journal: an append-only record, outside `meta/`, of every
// change to what clients can name (manifests of a repository, tags), so that
// `fsck --reindex` can rebuild a lost `meta/` from the packs plus this
// journal with every tagged image pullable again. RECOVERY.md "Recovery
// journal" describes the protocol; FORMAT.md the bytes.
//
// Files in `journal/`: segments `N.log` (frames appended in commit order) and
// snapshots `N.snap` (every manifest and tag as of a moment after every
// record of the segments before N was committed, ending with `snapshotEnd`).
// Replay = the newest complete snapshot, then every segment from its number
// on, in order; segments older than the newest snapshot are deleted.
//
// Thread safety: `transact` serialises writers with `writerLock` (held across
// the caller's LMDB write transaction, so file order is commit order);
// `sync` and the position fields are guarded by `state` (an NSCondition).
// Lock order: writerLock, then state. `records` and the static helpers need
// no lock (they read files no writer changes: sealed segments and snapshots,
// or the active segment of a store opened only for reading).
// Invariants:
//   1. A frame is `u32 length ‖ u32 crc32c(payload) ‖ payload`, LE. Frames are
//      appended only after the LMDB transaction that made the change
//      committed, while `writerLock` is still held: the journal never holds a
//      change the index rejected, and its order is the index's commit order.
//   2. `sync(through:)` returns once every frame up to that position is
//      fdatasync'd (group commit: concurrent callers share one fdatasync).
//   3. A segment is sealed (fdatasync'd) before the next one is created; a
//      snapshot is renamed into place only after its bytes are fdatasync'd,
//      and older files are removed only after that rename is durable.
//   4. Opening for writing truncates a torn tail (a frame cut short or with a
//      bad CRC at the end of the active segment): such a frame was never
//      synced, so no client was answered for it.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A point in the journal: (segment, byte offset in it). Ordered.
struct JournalPosition: Comparable, Sendable {
    var segment: UInt32
    var offset: UInt64
    static func < (a: Self, b: Self) -> Bool { (a.segment, a.offset) < (b.segment, b.offset) }
}

final class RecoveryJournal: @unchecked Sendable {
    // @unchecked: mutable fields are guarded as the header says.
    static let maxFrame = 64 << 20
    static let frameHeader = 8

    let layout: StorageLayout
    let readOnly: Bool
    private let writerLock = NSLock()
    private let state = NSCondition()
    private var fd: Int32 = -1
    private var segment: UInt32
    private var end: UInt64
    /// Frames are counted in bytes appended by this process (a monotonic
    /// clock for `sync`), independent of segments.
    private var appended: UInt64 = 0
    private var synced: UInt64 = 0
    private var syncing = false
    private var closed = false
    /// False when open() found no journal file at all (a new store, or one
    /// made before the journal existed): the caller takes a snapshot.
    let existed: Bool

    init(layout: StorageLayout, readOnly: Bool) throws {
        self.layout = layout
        self.readOnly = readOnly
        let (segments, snapshots) = try Self.files(layout)
        existed = !(segments.isEmpty && snapshots.isEmpty)
        let last = max(segments.last ?? 0, snapshots.last ?? 0, 1)
        segment = last
        end = 0
        let path = layout.journalPath(last, suffix: StorageLayout.journalSegmentSuffix)
        if readOnly {
            if segments.last == last {
                fd = try PosixIO.openFile(path, O_RDONLY)
                end = try Self.validLength(fd, path: path)
            }
            return
        }
        fd = try PosixIO.openFile(path, O_RDWR | O_CREAT, create: true)
        let size = try PosixIO.fileSize(fd, path: path)
        end = try Self.validLength(fd, path: path)
        if end < size {
            try PosixIO.truncateFile(fd, to: end, path: path)
            try PosixIO.fdatasyncFile(fd, path: path)
        }
        if segments.last != last { try PosixIO.syncDirectory(layout.journalDirectory) }
    }

    func close() {
        state.lock()
        defer { state.unlock() }
        while syncing { state.wait() }
        if fd >= 0 { PosixIO.closeFile(fd) }
        fd = -1
        closed = true
    }

    /// Where the next frame goes.
    var position: JournalPosition {
        state.lock()
        defer { state.unlock() }
        return JournalPosition(segment: segment, offset: end)
    }

    /// The size in bytes of `records` once framed.
    static func framedSize(_ records: [[UInt8]]) -> UInt64 {
        records.reduce(0) { $0 + UInt64(frameHeader + $1.count) }
    }

    /// Runs `body` (an LMDB write transaction that may add records) with the
    /// writer lock held, then appends what it added. `body` receives the
    /// position the records will start at. Returns `body`'s result and the
    /// append clock value to `sync` through.
    func transact<T>(_ body: (JournalPosition, inout [[UInt8]]) throws -> T) throws -> (T, UInt64) {
        writerLock.lock()
        defer { writerLock.unlock() }
        var records: [[UInt8]] = []
        let result = try body(position, &records)
        guard !records.isEmpty else { return (result, 0) }
        var frames: [UInt8] = []
        frames.reserveCapacity(Int(Self.framedSize(records)))
        for r in records { Self.frame(r, into: &frames) }
        state.lock()
        defer { state.unlock() }
        guard !closed, fd >= 0 else { throw StoreError(.closed, "the store is closed") }
        try frames.withUnsafeBytes { try PosixIO.pwriteFully(fd, $0, at: end, path: segmentPath(segment)) }
        end += UInt64(frames.count)
        appended += UInt64(frames.count)
        return (result, appended)
    }

    /// Group fdatasync through append clock `target` (invariant 2).
    func sync(through target: UInt64) throws {
        state.lock()
        defer { state.unlock() }
        while synced < target {
            if syncing { state.wait(); continue }
            guard !closed, fd >= 0 else { throw StoreError(.closed, "the store is closed") }
            syncing = true
            let (descriptor, upTo, path) = (fd, appended, segmentPath(segment))
            state.unlock()
            let outcome = Result { try PosixIO.fdatasyncFile(descriptor, path: path) }
            state.lock()
            syncing = false
            state.broadcast()
            try outcome.get()
            synced = max(synced, upTo)
        }
    }

    /// Seals the active segment and starts the next one; the caller holds
    /// the writer lock through `withWriterLock`. Returns the new segment.
    private func rotateLocked() throws -> UInt32 {
        state.lock()
        defer { state.unlock() }
        while syncing { state.wait() }
        guard !closed, fd >= 0 else { throw StoreError(.closed, "the store is closed") }
        try PosixIO.fdatasyncFile(fd, path: segmentPath(segment))
        synced = appended
        let next = segment + 1
        let path = segmentPath(next)
        let newFD = try PosixIO.openFile(path, O_RDWR | O_CREAT | O_TRUNC, create: true)
        try PosixIO.syncDirectory(layout.journalDirectory)
        PosixIO.closeFile(fd)
        fd = newFD
        segment = next
        end = 0
        return next
    }

    /// Starts a new segment N under the writer lock (after `beforeRotate(N)`,
    /// also under it), then (lock released) writes snapshot N from `dump`,
    /// which must read the index in a read transaction begun after this call
    /// started it (it then holds every change of segments < N), and removes
    /// the files it supersedes.
    func checkpoint(beforeRotate: (UInt32) throws -> Void, dump: (_ emit: ([UInt8]) throws -> Void) throws -> Void) throws {
        writerLock.lock()
        let next: UInt32
        do {
            try beforeRotate(position.segment + 1)
            next = try rotateLocked()
            writerLock.unlock()
        } catch {
            writerLock.unlock()
            throw error
        }
        try writeSnapshot(next, dump)
    }

    private func writeSnapshot(_ id: UInt32, _ dump: (_ emit: ([UInt8]) throws -> Void) throws -> Void) throws {
        let final = layout.journalPath(id, suffix: StorageLayout.journalSnapshotSuffix)
        let temporary = final + ".tmp"
        let out = try PosixIO.openFile(temporary, O_RDWR | O_CREAT | O_TRUNC, create: true)
        var buffer: [UInt8] = []
        var offset: UInt64 = 0
        var count: UInt64 = 0
        func flush() throws {
            try buffer.withUnsafeBytes { try PosixIO.pwriteFully(out, $0, at: offset, path: temporary) }
            offset += UInt64(buffer.count)
            buffer.removeAll(keepingCapacity: true)
        }
        do {
            try dump { record in
                Self.frame(record, into: &buffer)
                count += 1
                if buffer.count >= 1 << 20 { try flush() }
            }
            Self.frame(JournalRecord.snapshotEnd(count: count).encode(), into: &buffer)
            try flush()
            try PosixIO.fdatasyncFile(out, path: temporary)
            PosixIO.closeFile(out)
        } catch {
            PosixIO.closeFile(out)
            _ = try? PosixIO.unlinkFile(temporary)
            throw error
        }
        try PosixIO.renameFile(temporary, final)
        try PosixIO.syncDirectory(layout.journalDirectory)
        let (segments, snapshots) = try Self.files(layout)
        var removed = false
        for s in segments where s < id {
            removed = try PosixIO.unlinkFile(layout.journalPath(s, suffix: StorageLayout.journalSegmentSuffix)) || removed
        }
        for s in snapshots where s < id {
            removed = try PosixIO.unlinkFile(layout.journalPath(s, suffix: StorageLayout.journalSnapshotSuffix)) || removed
        }
        if removed { try PosixIO.syncDirectory(layout.journalDirectory) }
    }

    /// Bytes in the active segment (the checkpoint trigger).
    var activeSegmentBytes: UInt64 {
        state.lock()
        defer { state.unlock() }
        return end
    }

    private func segmentPath(_ id: UInt32) -> String { layout.journalPath(id, suffix: StorageLayout.journalSegmentSuffix) }

    // MARK: Reading (replay, fsck)

    /// What replay reads: the newest complete snapshot's records, then every
    /// segment from its number on. `problems` names what was skipped (an
    /// incomplete snapshot, a damaged frame in a sealed segment).
    static func records(_ layout: StorageLayout) throws -> (records: [JournalRecord], problems: [String]) {
        let (segments, snapshots) = try files(layout)
        var problems: [String] = []
        var out: [JournalRecord] = []
        var from: UInt32 = 0
        for id in snapshots.reversed() {
            let path = layout.journalPath(id, suffix: StorageLayout.journalSnapshotSuffix)
            let (frames, intact) = try readFrames(path)
            let decoded = try frames.map(JournalRecord.decode)
            if intact, case .snapshotEnd(let n)? = decoded.last, n == UInt64(decoded.count - 1) {
                out = Array(decoded.dropLast())
                from = id
                break
            }
            problems.append("journal snapshot \(id) is incomplete; using an older one")
        }
        if from == 0, let first = segments.first, first > 1 || !snapshots.isEmpty {
            problems.append("journal has no complete snapshot and starts at segment \(first): changes before it are missing")
        }
        for id in segments where id >= from {
            let path = layout.journalPath(id, suffix: StorageLayout.journalSegmentSuffix)
            let (frames, intact) = try readFrames(path)
            if !intact && id != segments.last {
                problems.append("journal segment \(id) has a damaged frame; the records after it are skipped")
            }
            for f in frames {
                do { out.append(try JournalRecord.decode(f)) } catch {
                    problems.append("journal segment \(id): undecodable record skipped")
                }
            }
        }
        return (out, problems)
    }

    /// Where the journal on disk ends (its newest segment's valid frames), as
    /// a writable open would find it; nil when there is no journal.
    static func end(_ layout: StorageLayout) throws -> JournalPosition? {
        let (segments, snapshots) = try files(layout)
        guard let last = max(segments.last ?? 0, snapshots.last ?? 0) as UInt32?, last > 0 else { return nil }
        let path = layout.journalPath(last, suffix: StorageLayout.journalSegmentSuffix)
        guard let fd = try PosixIO.openFileIfExists(path, O_RDONLY) else { return JournalPosition(segment: last, offset: 0) }
        defer { PosixIO.closeFile(fd) }
        return JournalPosition(segment: last, offset: try validLength(fd, path: path))
    }

    /// Segment and snapshot ids present, ascending.
    static func files(_ layout: StorageLayout) throws -> (segments: [UInt32], snapshots: [UInt32]) {
        var segments: [UInt32] = [], snapshots: [UInt32] = []
        let names: [String]
        do { names = try PosixIO.listDirectory(layout.journalDirectory) } catch let e as StoreError where e.code == .io {
            guard access(layout.journalDirectory, F_OK) != 0 else { throw e }
            return ([], [])
        }
        for name in names {
            if let id = StorageLayout.journalID(fromFileName: name, suffix: StorageLayout.journalSegmentSuffix) { segments.append(id) }
            if let id = StorageLayout.journalID(fromFileName: name, suffix: StorageLayout.journalSnapshotSuffix) { snapshots.append(id) }
        }
        return (segments.sorted(), snapshots.sorted())
    }

    static func frame(_ payload: [UInt8], into out: inout [UInt8]) {
        var w = ByteWriter(capacity: frameHeader)
        w.u32(UInt32(payload.count))
        w.u32(CRC32C.checksum(payload))
        out.append(contentsOf: w.bytes)
        out.append(contentsOf: payload)
    }

    /// The payloads of the leading valid frames of a file, and whether the
    /// whole file was valid frames.
    static func readFrames(_ path: String) throws -> (frames: [[UInt8]], intact: Bool) {
        guard let fd = try PosixIO.openFileIfExists(path, O_RDONLY) else { return ([], true) }
        defer { PosixIO.closeFile(fd) }
        var frames: [[UInt8]] = []
        let length = try scan(fd, path: path) { frames.append($0) }
        return (frames, length == (try PosixIO.fileSize(fd, path: path)))
    }

    private static func validLength(_ fd: Int32, path: String) throws -> UInt64 {
        try scan(fd, path: path) { _ in }
    }

    /// Calls `body` with each valid frame's payload from the start; returns
    /// the offset after the last valid frame. Reads in 1 MiB chunks.
    private static func scan(_ fd: Int32, path: String, _ body: ([UInt8]) throws -> Void) throws -> UInt64 {
        let size = try PosixIO.fileSize(fd, path: path)
        var buffer: [UInt8] = []
        var bufferStart: UInt64 = 0
        var offset: UInt64 = 0
        /// The `count` bytes at `at`, nil past the end of the file.
        func bytes(at: UInt64, _ count: Int) throws -> ArraySlice<UInt8>? {
            guard at <= size, size - at >= UInt64(count) else { return nil }
            if at < bufferStart || at + UInt64(count) > bufferStart + UInt64(buffer.count) {
                buffer = try PosixIO.readBytes(fd, count: Int(min(UInt64(max(count, 1 << 20)), size - at)), at: at, path: path)
                bufferStart = at
                guard buffer.count >= count else { return nil }
            }
            let start = Int(at - bufferStart)
            return buffer[start..<(start + count)]
        }
        while let header = try bytes(at: offset, frameHeader) {
            var r = ByteReader(Array(header), what: "journal frame")
            let length = try r.u32(), crc = try r.u32()
            guard length <= maxFrame, let payload = try bytes(at: offset + UInt64(frameHeader), Int(length)) else { break }
            let copy = Array(payload)
            guard CRC32C.checksum(copy) == crc else { break }
            try body(copy)
            offset += UInt64(frameHeader) + UInt64(length)
        }
        return offset
    }
}
