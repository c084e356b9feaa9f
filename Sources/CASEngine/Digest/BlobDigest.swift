// Content digests as the engine stores them: an algorithm tag plus raw bytes.
// The string form is `<algorithm>:<lowercase hex>` as in the OCI spec; the
// engine only ever handles the two registered algorithms, sha256 and sha512.
//
// Thread safety: value type, Sendable.
// Invariants:
//   1. `bytes.count == algorithm.byteCount`.
//   2. Ordering is (algorithm, bytes) lexicographic; LMDB keys use `key`,
//      which sorts the same way.

public enum DigestAlgorithm: UInt8, Sendable, CaseIterable, Comparable {
    case sha256 = 1
    case sha512 = 2

    public var byteCount: Int {
        switch self {
        case .sha256: return 32
        case .sha512: return 64
        }
    }

    public var name: String {
        switch self {
        case .sha256: return "sha256"
        case .sha512: return "sha512"
        }
    }

    public init?(name: String) {
        switch name {
        case "sha256": self = .sha256
        case "sha512": self = .sha512
        default: return nil
        }
    }

    public static func < (lhs: DigestAlgorithm, rhs: DigestAlgorithm) -> Bool { lhs.rawValue < rhs.rawValue }
}

public struct BlobDigest: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let algorithm: DigestAlgorithm
    public let bytes: [UInt8]

    public init?(algorithm: DigestAlgorithm, bytes: [UInt8]) {
        guard bytes.count == algorithm.byteCount else { return nil }
        self.algorithm = algorithm
        self.bytes = bytes
    }

    /// Parses `sha256:<64 lowercase hex>` or `sha512:<128 lowercase hex>`.
    public init?(_ string: String) {
        let utf8 = Array(string.utf8)
        guard let colon = utf8.firstIndex(of: UInt8(ascii: ":")),
              let algorithm = DigestAlgorithm(name: String(decoding: utf8[..<colon], as: UTF8.self))
        else { return nil }
        let hex = utf8[(colon + 1)...]
        guard hex.count == algorithm.byteCount * 2 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(algorithm.byteCount)
        var it = hex.makeIterator()
        while let hi = it.next(), let lo = it.next() {
            guard let h = BlobDigest.nibble(hi), let l = BlobDigest.nibble(lo) else { return nil }
            out.append(h << 4 | l)
        }
        self.algorithm = algorithm
        self.bytes = out
    }

    /// Parses the engine's binary key form (see `key`).
    public init?(key: some Collection<UInt8>) {
        guard let first = key.first, let algorithm = DigestAlgorithm(rawValue: first) else { return nil }
        let rest = Array(key.dropFirst())
        self.init(algorithm: algorithm, bytes: rest)
    }

    /// Binary key: one algorithm byte followed by the digest bytes.
    public var key: [UInt8] { [algorithm.rawValue] + bytes }

    public var hex: String {
        let table = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(table[Int(b >> 4)])
            out.append(table[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { "\(algorithm.name):\(hex)" }

    public static func < (lhs: BlobDigest, rhs: BlobDigest) -> Bool {
        if lhs.algorithm != rhs.algorithm { return lhs.algorithm < rhs.algorithm }
        return lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}
