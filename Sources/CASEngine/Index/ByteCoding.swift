// Byte encoding for metadata keys and values (layouts in SCHEMA.md).
//
// Thread safety: value types, used by one thread at a time.
// Invariants:
//   1. Integers in keys are big-endian (cursor order = numeric order);
//      integers in values are little-endian.
//   2. A reader that runs out of bytes throws `.corrupt`; it never traps.

struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { appendLE(UInt64(v), 2) }
    mutating func u32(_ v: UInt32) { appendLE(UInt64(v), 4) }
    mutating func u64(_ v: UInt64) { appendLE(v, 8) }
    mutating func u64BE(_ v: UInt64) {
        for i in (0..<8).reversed() { bytes.append(UInt8(truncatingIfNeeded: v >> (UInt64(i) * 8))) }
    }
    mutating func raw(_ b: some Sequence<UInt8>) { bytes.append(contentsOf: b) }
    mutating func digest(_ d: BlobDigest) { raw(d.key) }
    /// u32 count + that many digest keys.
    mutating func digests32(_ ds: [BlobDigest]) { u32(UInt32(ds.count)); for d in ds { digest(d) } }
    /// u16 length + UTF-8 bytes.
    mutating func string16(_ s: String) { let u = Array(s.utf8); u16(UInt16(clamping: u.count)); raw(u.prefix(Int(UInt16.max))) }

    private mutating func appendLE(_ v: UInt64, _ n: Int) {
        for i in 0..<n { bytes.append(UInt8(truncatingIfNeeded: v >> (UInt64(i) * 8))) }
    }
}

struct ByteReader {
    private let bytes: [UInt8]
    private var pos = 0
    private let what: String

    init(_ bytes: [UInt8], what: String) { self.bytes = bytes; self.what = what }

    var atEnd: Bool { pos == bytes.count }
    var rest: [UInt8] { Array(bytes[pos...]) }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, bytes.count - pos >= n else {
            throw StoreError(.corrupt, "truncated \(what) record (\(bytes.count) bytes)")
        }
        defer { pos += n }
        return bytes[pos..<(pos + n)]
    }

    mutating func u8() throws -> UInt8 { try take(1).first! }
    mutating func u16() throws -> UInt16 { UInt16(try le(2)) }
    mutating func u32() throws -> UInt32 { UInt32(try le(4)) }
    mutating func u64() throws -> UInt64 { try le(8) }
    mutating func u64BE() throws -> UInt64 { try take(8).reduce(0) { $0 << 8 | UInt64($1) } }
    mutating func u32BE() throws -> UInt32 { try take(4).reduce(0) { $0 << 8 | UInt32($1) } }
    mutating func string16() throws -> String { String(decoding: try take(Int(try u16())), as: UTF8.self) }

    /// Algorithm byte + digest bytes, as written by `BlobDigest.key`.
    mutating func digest() throws -> BlobDigest {
        guard let alg = DigestAlgorithm(rawValue: try u8()) else {
            throw StoreError(.corrupt, "unknown digest algorithm in \(what) record")
        }
        return BlobDigest(algorithm: alg, bytes: Array(try take(alg.byteCount)))!
    }

    /// u32 count + that many digest keys. The count is untrusted: never
    /// reserves more than the remaining bytes can hold (a digest key is at
    /// least 33 bytes), so a corrupt count cannot trap the allocator.
    mutating func digests32() throws -> [BlobDigest] {
        let n = Int(try u32())
        var out: [BlobDigest] = []
        out.reserveCapacity(min(n, (bytes.count - pos) / 33))
        for _ in 0..<n { out.append(try digest()) }
        return out
    }

    private mutating func le(_ n: Int) throws -> UInt64 {
        try take(n).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}
