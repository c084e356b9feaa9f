// Where a blob's bytes live: shared by the pack layer (which writes and reads
// them) and the metadata layer (which stores them in the blob index).
//
// Thread safety: value type, Sendable.
// Invariants:
//   1. `payloadOffset == recordOffset + PackRecordHeader.payloadGap(flags)`:
//      right after the 128-byte header, or 4096 bytes in for an `.aligned` record.
//   2. `storedLength == rawLength` unless `flags.contains(.lz4)`.

public struct RecordFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// Payload is an LZ4 block; `rawLength` is the decompressed size.
    public static let lz4 = RecordFlags(rawValue: 1 << 0)
    /// The record is the only one in its pack (a large blob committed from its upload file).
    public static let dedicated = RecordFlags(rawValue: 1 << 1)
    /// Only with `.dedicated`: the payload starts at recordOffset + 4096 (bytes
    /// 128..<4096 are zero), block-aligned so it can be a reflink clone.
    public static let aligned = RecordFlags(rawValue: 1 << 2)
}

public struct BlobLocation: Sendable, Hashable {
    public var packID: UInt32
    public var recordOffset: UInt64
    public var storedLength: UInt64
    public var rawLength: UInt64
    public var flags: RecordFlags

    public init(packID: UInt32, recordOffset: UInt64, storedLength: UInt64, rawLength: UInt64, flags: RecordFlags) {
        self.packID = packID
        self.recordOffset = recordOffset
        self.storedLength = storedLength
        self.rawLength = rawLength
        self.flags = flags
    }

    public var payloadOffset: UInt64 { recordOffset + PackRecordHeader.payloadGap(flags) }
}
