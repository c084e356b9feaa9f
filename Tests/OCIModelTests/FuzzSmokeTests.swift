import BerthTestSupport
import Testing
@testable import OCIModel

/// Deterministic stand-in for the libFuzzer harnesses: seeded random and
/// mutated inputs into every parser, checking the harnesses' invariants on
/// whatever is accepted (Fuzz/README.md), and that the mutations still reach
/// the acceptance paths (a parser that rejected everything would pass a
/// returned-or-threw check).
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
        let seed = TestSeed.seed(0xBE27)
        var accepted: [String: Int] = [:]
        for (i, bytes) in Self.inputs(count: 2_000, seed: seed).enumerated() {
            let s = String(decoding: bytes, as: UTF8.self)
            if let d = try? Digest(parsing: s) {
                accepted["digest", default: 0] += 1
                #expect(Digest.matchesGrammar(s) && d.description == s, "seed \(seed) input \(i): digest \(s)")
            }
            #expect(RepositoryName.isValid(s) == ((try? RepositoryName.validate(s)) != nil), "seed \(seed) input \(i): name \(s)")
            if RepositoryName.isValid(s) { accepted["name", default: 0] += 1 }
            if let ref = try? Reference(parsing: s) {
                accepted["reference", default: 0] += 1
                #expect(ref.description == s, "seed \(seed) input \(i): reference \(s)")
            }
            if let r = try? ContentRange.parse(s) {
                accepted["content-range", default: 0] += 1
                #expect(r.start <= r.end && r.length >= 1, "seed \(seed) input \(i): content range \(s)")
            }
            for size in [UInt64(i % 3 == 0 ? 0 : i), .max] {
                if let r = try? ByteRange.parse(s, size: size) {
                    accepted["byte-range", default: 0] += 1
                    #expect(r.upperBound < size, "seed \(seed) input \(i): range \(r) of \(size) from \(s)")
                }
            }
            for t in AcceptHeader.mediaTypes([s, s]) {
                #expect(!t.isEmpty && !t.utf8.contains(UInt8(ascii: ",")) && !t.utf8.contains(UInt8(ascii: ";")),
                        "seed \(seed) input \(i): media type \(t)")
            }
            _ = MediaType.isNonDistributable(s)
            if let m = try? ParsedManifest.parse(bytes, contentType: contentTypes[i % contentTypes.count]) {
                accepted["manifest", default: 0] += 1
                #expect(MediaType.manifestTypes.contains(m.mediaType), "seed \(seed) input \(i): media type \(m.mediaType)")
                for d in m.references { #expect((try? Digest(parsing: d.description)) == d, "seed \(seed) input \(i): \(d)") }
            }
        }
        // Light mutations leave many inputs intact: each acceptance path must
        // have been reached, or the invariants above were never exercised.
        for kind in ["digest", "name", "reference", "content-range", "byte-range", "manifest"] {
            #expect(accepted[kind, default: 0] > 0, "seed \(seed): no input accepted as \(kind) (\(accepted))")
        }
    }

    /// The unmutated seeds (all but schema1, which is refused) are accepted:
    /// the mutation base is real input.
    @Test func everyFixtureParses() throws {
        for fixture in Fixtures.all where fixture != Fixtures.schema1 {
            _ = try ParsedManifest.parse(Array(fixture.utf8), contentType: nil)
        }
    }
}
