import Testing
@testable import OCIModel

@Suite struct DigestTests {
    @Test(arguments: [
        Fixtures.a,
        "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b",
        Fixtures.sha512,
    ])
    func validDigests(_ s: String) throws {
        let d = try Digest(parsing: s)
        #expect(d.description == s)
        #expect(d.algorithm + ":" + d.encoded == s)
    }

    @Test(arguments: [
        "",                                   // empty
        ":",                                  // nothing either side
        "sha256",                             // no colon
        "sha256:",                            // empty encoded
        ":" + String(repeating: "a", count: 64),
        "SHA256:" + String(repeating: "a", count: 64),  // uppercase algorithm
        "sha256:" + String(repeating: "A", count: 64),  // uppercase hex
        "sha256:" + String(repeating: "a", count: 63),  // short
        "sha256:" + String(repeating: "a", count: 65),  // long
        "sha256:" + String(repeating: "g", count: 64),  // not hex
        "sha512:" + String(repeating: "a", count: 64),  // sha512 with sha256 length
        "sha256:" + String(repeating: "a", count: 63) + " ",
        "sha256+:abc",                        // trailing separator
        "+sha256:abc",                        // leading separator
        "sha..256:abc",                       // empty component
        "sha256:abc:def",                     // colon in encoded
        "sha256:ab/cd",                       // slash in encoded
        "shä256:abc",                         // non-ASCII
        Fixtures.a + "\n",                    // trailing newline
        " " + Fixtures.a,                     // leading space
    ])
    func invalidDigests(_ s: String) {
        #expect(parseError { _ = try Digest(parsing: s) } == OCIParseError(.digestInvalid, ""))
    }

    @Test(arguments: [
        "sha384:" + String(repeating: "a", count: 96),
        "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
        "md5:d41d8cd98f00b204e9800998ecf8427e",
        "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
        "a.b_c-d+e:x=y",
    ])
    func wellFormedButUnsupported(_ s: String) {
        #expect(Digest.matchesGrammar(s))
        #expect(parseError { _ = try Digest(parsing: s) } == OCIParseError(.digestUnsupported, ""))
    }

    @Test func comparableAndHashable() throws {
        let a = try Digest(parsing: Fixtures.a), b = try Digest(parsing: Fixtures.b)
        #expect(a < b)
        #expect(Set([a, b, try Digest(parsing: Fixtures.a)]).count == 2)
        #expect(try Digest(algorithm: "sha256", encoded: String(repeating: "a", count: 64)) == a)
    }

    @Test func errorEqualityIgnoresMessage() {
        #expect(OCIParseError(.digestInvalid, "x") == OCIParseError(.digestInvalid, "y"))
        #expect(OCIParseError(.digestInvalid, "x") != OCIParseError(.digestUnsupported, "x"))
        #expect(OCIParseError(.tagInvalid, "bad").description == "tagInvalid: bad")
    }

    @Test func longInputMessageIsTruncated() {
        let s = String(repeating: "!", count: 100_000)
        let e = parseError { _ = try Digest(parsing: s) }
        #expect(e?.code == .digestInvalid)
        #expect((e?.message.count ?? .max) < 200)
    }
}
