// Inputs found by (or written for) the Fuzz/ harnesses, kept in the normal
// suite with their bytes inline.

import Testing
@testable import OCIModel

@Suite("Fuzz regressions: OCIModel parsers")
struct FuzzRegressionTests {
    /// `0-18446744073709551615` parsed, and `length` (end - start + 1)
    /// overflowed: a PATCH or PUT with this Content-Range trapped the server.
    @Test func contentRangeCoveringAllOfUInt64IsRejected() throws {
        for header in ["0-18446744073709551615", "bytes=0-18446744073709551615", "bytes 5-18446744073709551615/*",
                       "18446744073709551615-18446744073709551615"] {
            #expect(throws: OCIParseError(.rangeInvalid, "")) { try ContentRange.parse(header) }
        }
        let largest = try ContentRange.parse("0-18446744073709551614")
        #expect(largest.length == UInt64.max)
    }

    /// FuzzAcceptHeader crash-da75f05e: `a<U+06DD>;q=1.00,0a/`)`. The header was
    /// split on Characters, and U+06DD (a prepended concatenation mark) forms
    /// one grapheme with the ';' after it, so the separator vanished and a
    /// "media type" containing ';' came out.
    @Test func acceptHeaderSplitsOnBytesNotGraphemes() {
        let input: [UInt8] = [0x61, 0xDB, 0x9D, 0x3B, 0x71, 0x3D, 0x31, 0x2E, 0x30, 0x30, 0x2C, 0x30, 0x61, 0x2F, 0x60, 0x29]
        let types = AcceptHeader.mediaTypes([String(decoding: input, as: UTF8.self)])
        #expect(types == ["a\u{6DD}", "0a/`)"])
        #expect(AcceptHeader.mediaTypes(["application/x\u{6DD},\(MediaType.ociIndex)"]) == ["application/x\u{6DD}", MediaType.ociIndex])
        #expect(AcceptHeader.mediaTypes(["a/b\u{6DD};q=0, c/d"]) == ["c/d"])
        #expect(AcceptHeader.mediaTypes(["a/b;q\u{6DD}=0"]) == ["a/b"])
    }

    @Test func byteRangeExtremesStayInsideTheBlob() throws {
        #expect(try ByteRange.parse("bytes=0-18446744073709551615", size: UInt64.max) == 0...(UInt64.max - 1))
        #expect(try ByteRange.parse("bytes=-18446744073709551615", size: 1) == 0...0)
        #expect(try ByteRange.parse("bytes=18446744073709551614-", size: UInt64.max) == (UInt64.max - 1)...(UInt64.max - 1))
        #expect(try ByteRange.parse("bytes=-1", size: 0) == nil)
        #expect(throws: OCIParseError.self) { try ByteRange.parse("bytes=0-18446744073709551616", size: 10) }
    }

    static let minimalImage = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"a/b\",\"digest\":\"sha256:" + String(repeating: "a", count: 64) + "\",\"size\":1},\"layers\":[]}"

    @Test func minimalImageParses() throws {
        _ = try ParsedManifest.parse(Array(Self.minimalImage.utf8), contentType: MediaType.ociManifest)
        _ = try ParsedManifest.parse(Array((" \n\t" + Self.minimalImage).utf8), contentType: nil)
    }

    @Test func deepAndOddManifestsThrow() {
        let bodies: [[UInt8]] = [
            Array(repeating: UInt8(ascii: "["), count: 100_000),
            Array("{\"a\":\"\\".utf8) + Array(repeating: UInt8(ascii: "["), count: 100_000),
            [0xEF, 0xBB, 0xBF, UInt8(ascii: "{"), UInt8(ascii: "}")],
            [0xFF, 0xFE, 0x7B, 0x00, 0x7D, 0x00],
            // UTF-8 BOM before a valid manifest: Foundation accepted it (the HTTP
            // hostile-input suite stored it over a tag); distribution rejects it.
            [0xEF, 0xBB, 0xBF] + Array(Self.minimalImage.utf8),
            // UTF-16LE without a BOM.
            Array(Self.minimalImage.utf8).flatMap { [$0, 0] },
            Array("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a\",\"digest\":\"sha256:\",\"size\":1}]}".utf8),
        ]
        for body in bodies {
            for type in [nil, MediaType.ociManifest, MediaType.ociIndex] {
                #expect(throws: OCIParseError.self) { try ParsedManifest.parse(body, contentType: type) }
            }
        }
    }
}
