import BerthTestSupport
import Testing
@testable import CASEngine

@Suite struct HashTests {
    static let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)

    @Test func sha256Vectors() {
        #expect(packSHA256([]).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(packSHA256(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(packSHA256(HashTests.million).hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func sha512Vectors() {
        #expect(packSHA512([]).hex == "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")
        #expect(packSHA512(Array("abc".utf8)).hex == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
        #expect(packSHA512(HashTests.million).hex == "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b")
    }

    @Test(arguments: DigestAlgorithm.allCases)
    func chunkedFeedingMatchesOneShot(_ algorithm: DigestAlgorithm) {
        var rng = TestSeed.generator(0x4A54)  // chunk sizes; prints the seed, BERTH_TEST_SEED replays
        let data = packTestRandomBytes(200_000, seed: 42)
        let expected = StreamingHasher.digest(data, algorithm)
        for _ in 0..<20 {
            let h = StreamingHasher(algorithm)
            var i = 0
            while i < data.count {
                let n = min(data.count - i, Int.random(in: 0...9000, using: &rng))
                data.withUnsafeBytes { h.update(UnsafeRawBufferPointer(rebasing: $0[i..<(i + n)])) }
                i += n
                // A snapshot mid-stream must not disturb the running state.
                if n % 7 == 0 { _ = h.snapshotDigest() }
            }
            #expect(h.finalize() == expected)
        }
    }
}
