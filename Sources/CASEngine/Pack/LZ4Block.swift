// LZ4 block format (no frame) for pack payloads, and the sampling rule that
// decides whether a blob is worth compressing (FORMAT.md "Compression").
//
// Thread safety: stateless; LZ4_compress_default/LZ4_decompress_safe are
// reentrant (state on the stack).
// Invariants:
//   1. `compressIfWorthwhile` returns nil unless the result saves >= 1/8.
//   2. Never compresses input < 512 bytes or starting with gzip (1f 8b) or
//      zstd (28 b5 2f fd) magic.
//   3. `decompress` either returns exactly `rawLength` bytes or throws .corrupt.

import CLZ4

enum LZ4Block {
    static let minimumInput = 512
    static let sampleSize = 4096
    /// LZ4_MAX_INPUT_SIZE.
    static let maximumInput = 0x7E00_0000

    static func looksCompressed(_ bytes: [UInt8]) -> Bool {
        if bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b { return true }
        if bytes.count >= 4 && bytes[0] == 0x28 && bytes[1] == 0xb5 && bytes[2] == 0x2f && bytes[3] == 0xfd { return true }
        return false
    }

    static func saves(_ compressed: Int, of raw: Int) -> Bool { compressed <= raw - raw / 8 }

    static func compressIfWorthwhile(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count >= minimumInput, bytes.count <= maximumInput, !looksCompressed(bytes) else { return nil }
        if bytes.count > sampleSize {
            guard let sample = bytes.withUnsafeBytes({ compress(UnsafeRawBufferPointer(rebasing: $0[0..<sampleSize])) }),
                  saves(sample.count, of: sampleSize)
            else { return nil }
        }
        guard let whole = bytes.withUnsafeBytes({ compress($0) }), saves(whole.count, of: bytes.count) else { return nil }
        return whole
    }

    static func compress(_ src: UnsafeRawBufferPointer) -> [UInt8]? {
        let bound = Int(LZ4_compressBound(Int32(src.count)))
        guard bound > 0 else { return nil }
        var out = [UInt8](repeating: 0, count: bound)
        let n = out.withUnsafeMutableBytes { dst in
            LZ4_compress_default(src.baseAddress!.assumingMemoryBound(to: CChar.self),
                                 dst.baseAddress!.assumingMemoryBound(to: CChar.self),
                                 Int32(src.count), Int32(bound))
        }
        guard n > 0 else { return nil }
        out.removeSubrange(Int(n)...)
        return out
    }

    static func decompress(_ src: [UInt8], rawLength: Int) throws -> [UInt8] {
        guard rawLength <= maximumInput, src.count <= Int(Int32.max) else {
            throw StoreError(.corrupt, "lz4: raw length \(rawLength) too large")
        }
        if rawLength == 0 { return [] }
        var out = [UInt8](repeating: 0, count: rawLength)
        let n = src.withUnsafeBytes { s in
            out.withUnsafeMutableBytes { d in
                LZ4_decompress_safe(s.baseAddress?.assumingMemoryBound(to: CChar.self),
                                    d.baseAddress!.assumingMemoryBound(to: CChar.self),
                                    Int32(src.count), Int32(rawLength))
            }
        }
        guard n == Int32(rawLength) else {
            throw StoreError(.corrupt, "lz4: block decodes to \(n) bytes, header says \(rawLength)")
        }
        return out
    }
}
