import BerthTestSupport
import Testing
@testable import OCIModel

/// Deterministic stand-in for the libFuzzer harness: seeded random and
/// mutated inputs into every parser. Passing means only "returned or threw".
@Suite struct FuzzSmokeTests {
    static let alphabet = Array(#"{}[]":,0123456789-abcdefsha256:ABC=_.+/ \;q=bytes\u0000"#.utf8) + [0x00, 0xff, 0xc3, 0x80, 0x0a]

    static func inputs(count: Int, seed: UInt64) -> [[UInt8]] {
        var rng = SplitMix64(seed: seed)
        let seeds = Fixtures.all.map { Array($0.utf8) } + [
            Array(Fixtures.a.utf8), Array("library/ubuntu".utf8), Array("bytes=0-100".utf8),
            Array("v1.0".utf8), Array("application/json;q=0.5, a/b".utf8),
        ]
        var result: [[UInt8]] = []
        result.reserveCapacity(count)
        for i in 0..<count {
            if i % 4 == 0 {
                let n = Int.random(in: 0...300, using: &rng)
                result.append((0..<n).map { _ in alphabet.randomElement(using: &rng)! })
                continue
            }
            var bytes = seeds.randomElement(using: &rng)!
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                switch Int.random(in: 0..<6, using: &rng) {
                case 0 where !bytes.isEmpty:
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                case 1 where !bytes.isEmpty:
                    bytes.remove(at: Int.random(in: 0..<bytes.count, using: &rng))
                case 2:
                    bytes.insert(alphabet.randomElement(using: &rng)!, at: Int.random(in: 0...bytes.count, using: &rng))
                case 3 where !bytes.isEmpty:
                    bytes.removeLast(Int.random(in: 0...bytes.count, using: &rng))
                case 4 where !bytes.isEmpty:
                    let lo = Int.random(in: 0..<bytes.count, using: &rng)
                    let hi = min(bytes.count, lo + Int.random(in: 1...40, using: &rng))
                    bytes.insert(contentsOf: bytes[lo..<hi], at: Int.random(in: 0...bytes.count, using: &rng))
                default:
                    let c = alphabet.randomElement(using: &rng)!
                    bytes.insert(contentsOf: repeatElement(c, count: Int.random(in: 1...100, using: &rng)),
                                 at: Int.random(in: 0...bytes.count, using: &rng))
                }
            }
            result.append(bytes)
        }
        return result
    }

    @Test func everyParserIsTotal() {
        let contentTypes: [String?] = [nil, MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest,
                                       MediaType.dockerManifestList, "garbage;;", MediaType.dockerSchema1]
        var parsedManifests = 0
        for (i, bytes) in Self.inputs(count: 2_000, seed: 0xBE27).enumerated() {
            let s = String(decoding: bytes, as: UTF8.self)
            _ = try? Digest(parsing: s)
            _ = Digest.matchesGrammar(s)
            _ = RepositoryName.isValid(s)
            _ = try? RepositoryName.validate(s)
            _ = Tag.isValid(s)
            _ = try? Reference(parsing: s)
            _ = try? ContentRange.parse(s)
            _ = try? ByteRange.parse(s, size: UInt64(i % 3 == 0 ? 0 : i))
            _ = try? ByteRange.parse(s, size: .max)
            _ = AcceptHeader.mediaTypes([s, s])
            _ = MediaType.isNonDistributable(s)
            if let m = try? ParsedManifest.parse(bytes, contentType: contentTypes[i % contentTypes.count]) {
                parsedManifests += 1
                _ = m.references
            }
        }
        // Some mutations leave a manifest intact; the check is only that nothing trapped.
        #expect(parsedManifests >= 0)
    }
}
