// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, init/xorout 0xFFFFFFFF),
// the checksum of every pack header and payload (see FORMAT.md "Checksums").
// Slicing-by-8: eight 256-entry tables, eight input bytes per step.
//
// Thread safety: pure functions over immutable tables; safe from any thread.
// Invariants:
//   1. `checksum(b, seed: checksum(a)) == checksum(a + b)`: the seed is a
//      previous result, so payloads can be checksummed incrementally.
//   2. `checksum("123456789") == 0xE3069283` (the standard check value).

enum CRC32C {
    static let polynomial: UInt32 = 0x82F6_3B78

    /// tables[k][b]: CRC of byte b followed by k zero bytes.
    static let tables: [[UInt32]] = {
        var t = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ polynomial : c >> 1 }
            t[0][i] = c
        }
        for i in 0..<256 {
            for k in 1..<8 {
                let prev = t[k - 1][i]
                t[k][i] = (prev >> 8) ^ t[0][Int(prev & 0xff)]
            }
        }
        return t
    }()

    static func checksum(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        var crc = ~seed
        let count = bytes.count
        guard count > 0, let base = bytes.baseAddress else { return seed }
        var i = 0
        tables.withUnsafeBufferPointer { tt in
            let t0 = tt[0], t1 = tt[1], t2 = tt[2], t3 = tt[3]
            let t4 = tt[4], t5 = tt[5], t6 = tt[6], t7 = tt[7]
            t0.withUnsafeBufferPointer { t0 in t1.withUnsafeBufferPointer { t1 in
            t2.withUnsafeBufferPointer { t2 in t3.withUnsafeBufferPointer { t3 in
            t4.withUnsafeBufferPointer { t4 in t5.withUnsafeBufferPointer { t5 in
            t6.withUnsafeBufferPointer { t6 in t7.withUnsafeBufferPointer { t7 in
                while count - i >= 8 {
                    let lo = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt32.self)) ^ crc
                    let hi = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self))
                    crc = t7[Int(lo & 0xff)] ^ t6[Int((lo >> 8) & 0xff)]
                        ^ t5[Int((lo >> 16) & 0xff)] ^ t4[Int(lo >> 24)]
                        ^ t3[Int(hi & 0xff)] ^ t2[Int((hi >> 8) & 0xff)]
                        ^ t1[Int((hi >> 16) & 0xff)] ^ t0[Int(hi >> 24)]
                    i += 8
                }
                while i < count {
                    crc = (crc >> 8) ^ t0[Int((crc ^ UInt32(base.load(fromByteOffset: i, as: UInt8.self))) & 0xff)]
                    i += 1
                }
            }}}}}}}}
        }
        return ~crc
    }

    static func checksum(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, seed: seed) }
    }
}
