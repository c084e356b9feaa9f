// The 32-byte header at offset 0 of a SHARED pack file (dedicated packs start
// directly with their record header). Byte table: FORMAT.md "Shared pack file header".
//
// Thread safety: value type, Sendable.
// Invariants:
//   1. `encode()` yields exactly `size` bytes; the CRC covers bytes 0..<28.
//   2. A pack file whose first 4 bytes are "BPAK" is shared, "BREC" dedicated;
//      `PackKind.detect` is the only place that decides.
//   3. Unknown version -> .unsupportedFormat (checked before the CRC).

struct PackFileHeader: Sendable, Hashable {
    static let size = 32
    /// "BPAK" as bytes 42 50 41 4B.
    static let magic: [UInt8] = [0x42, 0x50, 0x41, 0x4B]
    static let currentVersion: UInt16 = 1
    static let crcOffset = 28

    var version: UInt16 = PackFileHeader.currentVersion
    var packID: UInt32

    func encode() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: PackFileHeader.size)
        b.replaceSubrange(0..<4, with: PackFileHeader.magic)
        LittleEndianBytes.put(version, into: &b, at: 4)
        // bytes 6..<8: reserved (zero)
        LittleEndianBytes.put(packID, into: &b, at: 8)
        // bytes 12..<28: reserved (zero)
        let crc = b.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<PackFileHeader.crcOffset])) }
        LittleEndianBytes.put(crc, into: &b, at: PackFileHeader.crcOffset)
        return b
    }

    static func decode(_ bytes: [UInt8]) throws -> PackFileHeader {
        guard bytes.count >= size else { throw StoreError(.corrupt, "pack header: \(bytes.count) bytes, need \(size)") }
        guard Array(bytes[0..<4]) == magic else { throw StoreError(.corrupt, "pack header: bad magic") }
        let version = LittleEndianBytes.get(UInt16.self, from: bytes, at: 4)
        guard version == currentVersion else {
            throw StoreError(.unsupportedFormat, "pack header: version \(version), this build reads \(currentVersion)")
        }
        let stored = LittleEndianBytes.get(UInt32.self, from: bytes, at: crcOffset)
        let computed = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<crcOffset])) }
        guard stored == computed else { throw StoreError(.corrupt, "pack header: CRC mismatch") }
        return PackFileHeader(version: version, packID: LittleEndianBytes.get(UInt32.self, from: bytes, at: 8))
    }
}

enum PackKind: Sendable, Equatable {
    case shared
    case dedicated

    /// Decides from the first 4 bytes of the file; nil if neither magic.
    static func detect(_ prefix: [UInt8]) -> PackKind? {
        guard prefix.count >= 4 else { return nil }
        let m = Array(prefix[0..<4])
        if m == PackFileHeader.magic { return .shared }
        if m == PackRecordHeader.magic { return .dedicated }
        return nil
    }

    /// Offset of the first record.
    var firstRecordOffset: UInt64 { self == .shared ? UInt64(PackFileHeader.size) : 0 }
}
