// FuzzLZ4: the LZ4 block decoder pack payloads go through (LZ4Block.swift),
// on arbitrary blocks, and the compressor's round trip on arbitrary content.
//
// Thread safety: stateless.
// Invariants (FuzzEntryPoints invariant 1 and 2 apply):
//   1. `LZ4Block.decompress` returns exactly `rawLength` bytes or throws `.corrupt`.
//   2. compress → decompress gives the input back; `compressIfWorthwhile`
//      returns nil or a block at least 1/8 smaller that also decodes to it.

@_spi(Fuzzing)
extension FuzzEntryPoints {
    /// Input: 3 bytes little-endian claimed raw length (< 16 MiB), then the block.
    public static func lz4Block(_ bytes: [UInt8]) throws {
        guard bytes.count >= 3 else { return }
        let rawLength = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16
        let block = Array(bytes[3...])
        do {
            let out = try LZ4Block.decompress(block, rawLength: rawLength)
            try lz4Check(out.count == rawLength, "decoded \(out.count) bytes, header says \(rawLength)")
        } catch let e as StoreError {
            try lz4Check(e.code == .corrupt, "decoder threw \(e.code), not .corrupt")
        }
        // The same bytes as content: the compressor's round trip (callers
        // never compress empty input: compressIfWorthwhile needs 512 bytes).
        guard !block.isEmpty else { return }
        let compressed = block.withUnsafeBytes { LZ4Block.compress($0) }
        try lz4Check(compressed != nil, "compress failed on \(block.count) bytes")
        try lz4Check((try? LZ4Block.decompress(compressed!, rawLength: block.count)) == block, "compress/decompress round trip")
        if let worthwhile = LZ4Block.compressIfWorthwhile(block) {
            try lz4Check(LZ4Block.saves(worthwhile.count, of: block.count), "kept a block that saves less than 1/8")
            try lz4Check((try? LZ4Block.decompress(worthwhile, rawLength: block.count)) == block, "worthwhile round trip")
        }
    }

    private static func lz4Check(_ condition: Bool, _ what: @autoclosure () -> String) throws {
        if !condition { throw FuzzInvariantViolation(description: what()) }
    }
}
