// Entry points for the libFuzzer harnesses in Fuzz/ and the FuzzRegression
// tests: each runs one of the engine's internal decoders on arbitrary bytes.
//
// Thread safety: stateless.
// Invariants:
//   1. Every function returns or throws; none may trap, whatever the bytes.
//      A decoder that rejects its input throws `StoreError`.
//   2. When a decoder accepts its input, re-encoding the decoded value and
//      decoding that again must give the same value; a violation throws
//      `FuzzInvariantViolation` (a harness turns it into a crash report).

@_spi(Fuzzing)
public struct FuzzInvariantViolation: Error, CustomStringConvertible {
    public let description: String
}

@_spi(Fuzzing)
public enum FuzzEntryPoints {
    /// The 128-byte pack record header (PackRecordHeader.decode). With
    /// `sealCRC`, the header CRC is first overwritten with the right value,
    /// so random input gets past the CRC to the field checks.
    public static func packRecordHeader(_ bytes: [UInt8], sealCRC: Bool = false) throws {
        var bytes = bytes
        if sealCRC { seal(&bytes, crcOffset: PackRecordHeader.Offset.headerCRC) }
        let h = try PackRecordHeader.decode(bytes)
        try check(try PackRecordHeader.decode(h.encode()) == h, "PackRecordHeader round trip")
    }

    /// The 32-byte shared pack file header (PackFileHeader.decode) and
    /// PackKind.detect; `sealCRC` as for `packRecordHeader`.
    public static func packFileHeader(_ bytes: [UInt8], sealCRC: Bool = false) throws {
        var bytes = bytes
        if sealCRC { seal(&bytes, crcOffset: PackFileHeader.crcOffset) }
        _ = PackKind.detect(bytes)
        let h = try PackFileHeader.decode(bytes)
        try check(try PackFileHeader.decode(h.encode()) == h, "PackFileHeader round trip")
    }

    /// Which LMDB value decoder `lmdbRecord` feeds: the first input byte selects.
    public enum LMDBRecordKind: UInt8, CaseIterable, Sendable {
        case blob, upload, review, manifestEntry, referrer, digestKey
    }

    /// Runs the decoder `kind` on `bytes` (MetaRecords.swift, ByteCoding.swift).
    public static func lmdbRecord(_ kind: LMDBRecordKind, _ bytes: [UInt8]) throws {
        switch kind {
        case .blob:
            let r = try BlobRecord.decode(bytes)
            try check(try BlobRecord.decode(r.encode()) == r, "BlobRecord round trip")
        case .upload:
            // The key is the upload id; split the input at the first NUL.
            let cut = bytes.firstIndex(of: 0) ?? bytes.count
            let id = Array(bytes[..<cut]), value = Array(bytes[min(cut + 1, bytes.count)...])
            _ = try UploadRecord.decode(id: id, value: value)
        case .review:
            let item = try ReviewItem.decode(bytes)
            try check(try ReviewItem.decode(item.encode()) == item, "ReviewItem round trip")
        case .manifestEntry:
            let e = try ManifestEntry.decode(bytes)
            // The media type may be repaired (invalid UTF-8) or cut (string16), so
            // only the binary fields must survive a round trip exactly.
            let again = try ManifestEntry.decode(e.encode())
            try check(again.createdAt == e.createdAt && again.subject == e.subject && again.references == e.references
                      && again.absent == e.absent,
                      "ManifestEntry round trip")
        case .referrer:
            let d = BlobDigest(algorithm: .sha256, bytes: [UInt8](repeating: 0xab, count: 32))!
            _ = try ReferrerValue.decode(digest: d, bytes)
        case .digestKey:
            if let d = BlobDigest(key: bytes) {
                try check(BlobDigest(key: d.key) == d && BlobDigest(d.description) == d, "BlobDigest key round trip")
            }
        }
    }

    /// The first byte selects the decoder (modulo the number of kinds); the rest is its input.
    public static func lmdbRecord(_ bytes: [UInt8]) throws {
        guard let first = bytes.first else { return }
        let kinds = LMDBRecordKind.allCases
        try lmdbRecord(kinds[Int(first) % kinds.count], Array(bytes.dropFirst()))
    }

    private static func seal(_ bytes: inout [UInt8], crcOffset: Int) {
        guard bytes.count >= crcOffset + 4 else { return }
        let crc = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<crcOffset])) }
        LittleEndianBytes.put(crc, into: &bytes, at: crcOffset)
    }

    private static func check(_ condition: Bool, _ what: String) throws {
        if !condition { throw FuzzInvariantViolation(description: "\(what) does not hold") }
    }
}
