import Foundation
@testable import CASEngine

/// A fresh directory under the system temp dir, removed by `cleanup()`.
struct PackTempDir {
    let path: String
    init() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("berth-pack-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        path = url.path
    }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
    var layout: StorageLayout { StorageLayout(root: path + "/store") }
}

/// Deterministic pseudo-random bytes (xorshift64*), incompressible in practice.
func packTestRandomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var x = seed | 1
    var out = [UInt8]()
    out.reserveCapacity(count)
    while out.count < count {
        x ^= x >> 12; x ^= x << 25; x ^= x >> 27
        let v = x &* 0x2545_F491_4F6C_DD1D
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0.prefix(count - out.count)) }
    }
    return out
}

/// JSON-like, highly compressible content.
func packTestJSON(_ entries: Int) -> [UInt8] {
    var s = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"layers\":["
    for i in 0..<entries {
        if i > 0 { s += "," }
        s += "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"size\":\(1000 + i),\"digest\":\"sha256:\(String(repeating: String(i % 10), count: 64))\"}"
    }
    s += "]}"
    return Array(s.utf8)
}

func packSHA256(_ b: [UInt8]) -> BlobDigest { StreamingHasher.digest(b, .sha256) }
func packSHA512(_ b: [UInt8]) -> BlobDigest { StreamingHasher.digest(b, .sha512) }

func packHex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

func packBytesFromHex(_ hex: String) -> [UInt8] {
    var out = [UInt8]()
    var it = Array(hex.utf8).makeIterator()
    while let h = it.next(), let l = it.next() {
        out.append(UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16)!)
    }
    return out
}

/// Overwrites one byte of a file.
func packFlipByte(path: String, at offset: UInt64) throws {
    let h = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? h.close() }
    try h.seek(toOffset: offset)
    let b = try h.read(upToCount: 1)![0]
    try h.seek(toOffset: offset)
    try h.write(contentsOf: [b ^ 0x5a])
}

func packAppendToFile(path: String, _ bytes: [UInt8]) throws {
    let h = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? h.close() }
    try h.seekToEnd()
    try h.write(contentsOf: bytes)
}

func packFileSize(_ path: String) throws -> UInt64 {
    (try FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber).uint64Value
}
