// The fixed 128-byte header in front of every blob payload in a pack file.
// Byte table, version rules and CRC definitions: FORMAT.md "Record header".
//
// Thread safety: value type, Sendable.
// Invariants:
//   1. `encode()` always yields exactly `size` bytes; `decode(encode(h)) == h`.
//   2. `decode` checks, in order: length, magic (.corrupt), version
//      (.unsupportedFormat — a future layout may move the CRC, so the CRC of an
//      unknown version is not interpreted), header CRC (.corrupt), then field
//      sanity (algorithm, flags, lengths).
//   3. `storedLength == rawLength` unless `flags.contains(.lz4)`.
//   4. The digest field is 64 bytes; a sha256 digest is zero-padded (covered by the CRC).
//   5. `.aligned` decodes only together with `.dedicated` (else .corrupt); the
//      payload of a record starts `payloadGap(flags)` bytes after the record.

public struct PackRecordHeader: Sendable, Hashable {
    public static let size = 128
    /// "BREC" as bytes 42 52 45 43 (little-endian UInt32 0x43455242).
    static let magic: [UInt8] = [0x42, 0x52, 0x45, 0x43]
    public static let currentVersion: UInt16 = 1
    static let knownFlags: RecordFlags = [.lz4, .dedicated, .aligned]
    /// Where an `.aligned` record's payload starts, relative to the record.
    public static let alignedPayloadGap: UInt64 = 4096

    /// Bytes from the start of a record to its payload.
    public static func payloadGap(_ flags: RecordFlags) -> UInt64 {
        flags.contains(.aligned) ? alignedPayloadGap : UInt64(size)
    }

    // Field offsets (FORMAT.md table).
    enum Offset {
        static let magic = 0, version = 4, flags = 6, algorithm = 8, reserved1 = 9
        static let payloadCRC = 12, storedLength = 16, rawLength = 24, digest = 32
        static let reserved2 = 96, headerCRC = 124
    }

    public var version: UInt16
    public var flags: RecordFlags
    public var digest: BlobDigest
    public var storedLength: UInt64
    public var rawLength: UInt64
    /// CRC32C of the stored payload bytes (compressed bytes when `.lz4`).
    public var payloadCRC: UInt32

    public init(flags: RecordFlags, digest: BlobDigest, storedLength: UInt64, rawLength: UInt64, payloadCRC: UInt32,
                version: UInt16 = PackRecordHeader.currentVersion) {
        self.version = version
        self.flags = flags
        self.digest = digest
        self.storedLength = storedLength
        self.rawLength = rawLength
        self.payloadCRC = payloadCRC
    }

    public func encode() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: PackRecordHeader.size)
        b.replaceSubrange(0..<4, with: PackRecordHeader.magic)
        LittleEndianBytes.put(version, into: &b, at: Offset.version)
        LittleEndianBytes.put(flags.rawValue, into: &b, at: Offset.flags)
        b[Offset.algorithm] = digest.algorithm.rawValue
        LittleEndianBytes.put(payloadCRC, into: &b, at: Offset.payloadCRC)
        LittleEndianBytes.put(storedLength, into: &b, at: Offset.storedLength)
        LittleEndianBytes.put(rawLength, into: &b, at: Offset.rawLength)
        b.replaceSubrange(Offset.digest..<(Offset.digest + digest.bytes.count), with: digest.bytes)
        let crc = b.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<Offset.headerCRC])) }
        LittleEndianBytes.put(crc, into: &b, at: Offset.headerCRC)
        return b
    }

    /// Decodes the first `size` bytes of `bytes`.
    public static func decode(_ bytes: [UInt8]) throws -> PackRecordHeader {
        guard bytes.count >= size else {
            throw StoreError(.corrupt, "record header: \(bytes.count) bytes, need \(size)")
        }
        guard Array(bytes[0..<4]) == magic else { throw StoreError(.corrupt, "record header: bad magic") }
        let version = LittleEndianBytes.get(UInt16.self, from: bytes, at: Offset.version)
        guard version == currentVersion else {
            throw StoreError(.unsupportedFormat, "record header: version \(version), this build reads \(currentVersion)")
        }
        let stored = LittleEndianBytes.get(UInt32.self, from: bytes, at: Offset.headerCRC)
        let computed = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<Offset.headerCRC])) }
        guard stored == computed else {
            throw StoreError(.corrupt, "record header: CRC mismatch (stored \(crcHex(stored)), computed \(crcHex(computed)))")
        }
        let flags = RecordFlags(rawValue: LittleEndianBytes.get(UInt16.self, from: bytes, at: Offset.flags))
        guard knownFlags.isSuperset(of: flags) else {
            throw StoreError(.unsupportedFormat, "record header: unknown flags 0x\(String(flags.rawValue, radix: 16))")
        }
        guard !flags.contains(.aligned) || flags.contains(.dedicated) else {
            throw StoreError(.corrupt, "record header: aligned flag without dedicated")
        }
        guard let algorithm = DigestAlgorithm(rawValue: bytes[Offset.algorithm]) else {
            throw StoreError(.corrupt, "record header: unknown digest algorithm \(bytes[Offset.algorithm])")
        }
        let digestBytes = Array(bytes[Offset.digest..<(Offset.digest + algorithm.byteCount)])
        let storedLength = LittleEndianBytes.get(UInt64.self, from: bytes, at: Offset.storedLength)
        let rawLength = LittleEndianBytes.get(UInt64.self, from: bytes, at: Offset.rawLength)
        guard flags.contains(.lz4) || storedLength == rawLength else {
            throw StoreError(.corrupt, "record header: stored length \(storedLength) != raw length \(rawLength) without lz4")
        }
        guard storedLength <= UInt64(Int64.max) - payloadGap(flags), rawLength <= UInt64(Int64.max) else {
            throw StoreError(.corrupt, "record header: absurd length")
        }
        return PackRecordHeader(
            flags: flags, digest: BlobDigest(algorithm: algorithm, bytes: digestBytes)!,
            storedLength: storedLength, rawLength: rawLength,
            payloadCRC: LittleEndianBytes.get(UInt32.self, from: bytes, at: Offset.payloadCRC), version: version)
    }
}

func crcHex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - s.count) + s
}
