import Testing
@testable import OCIModel

@Suite struct ContentRangeTests {
    @Test(arguments: [
        ("0-0", UInt64(0), UInt64(0)),
        ("0-1023", 0, 1023),
        ("1024-2047", 1024, 2047),
        ("bytes 5-10", 5, 10),
        ("bytes=5-10", 5, 10),
        ("  7-9  ", 7, 9),
        ("bytes 0-99/100", 0, 99),
        ("bytes 0-99/*", 0, 99),
        ("0-18446744073709551614", 0, UInt64.max - 1),
    ])
    func valid(_ header: String, _ start: UInt64, _ end: UInt64) throws {
        let r = try ContentRange.parse(header)
        #expect(r == ContentRange(start: start, end: end))
    }

    @Test(arguments: [
        "", "-", "5", "5-", "-5", "10-5", "a-b", "1-2-3", "0x1-2", "+1-2", "1 - 2", "bytes",
        "bytes=", "items 1-2", "0-18446744073709551616", "0-18446744073709551615", "1-2/abc", "1-2/", " -1-2", "１-２",
    ])
    func invalid(_ header: String) {
        #expect(parseError { _ = try ContentRange.parse(header) } == OCIParseError(.rangeInvalid, ""))
    }

    @Test func length() {
        #expect(ContentRange(start: 10, end: 19).length == 10)
    }
}

@Suite struct ByteRangeTests {
    @Test(arguments: [
        ("bytes=0-0", UInt64(100), UInt64(0), UInt64(0)),
        ("bytes=0-99", 100, 0, 99),
        ("bytes=10-19", 100, 10, 19),
        ("bytes=10-", 100, 10, 99),
        ("bytes=90-1000", 100, 90, 99),         // end clamped
        ("bytes=-10", 100, 90, 99),             // suffix
        ("bytes=-1000", 100, 0, 99),            // suffix longer than blob
        ("Bytes=1-2", 100, 1, 2),               // unit is case-insensitive
        (" bytes= 1-2 ", 100, 1, 2),
        ("bytes=0-18446744073709551615", 5, 0, 4),
    ])
    func satisfiable(_ header: String, _ size: UInt64, _ lo: UInt64, _ hi: UInt64) throws {
        #expect(try ByteRange.parse(header, size: size) == lo...hi)
    }

    @Test(arguments: [
        ("bytes=100-", UInt64(100)),
        ("bytes=100-200", 100),
        ("bytes=0-0", 0),
        ("bytes=-0", 100),
        ("bytes=-5", 0),
        ("bytes=18446744073709551615-", 100),
    ])
    func unsatisfiable(_ header: String, _ size: UInt64) throws {
        #expect(try ByteRange.parse(header, size: size) == nil)
    }

    @Test(arguments: [
        "", "bytes", "bytes=", "bytes=-", "bytes=a-b", "bytes=5-1", "bytes=0-1,2-3", "bytes=0-1, 5-",
        "items=0-1", "0-1", "bytes=1", "bytes=--1", "bytes=1-2-3", "bytes=99999999999999999999-",
    ])
    func invalid(_ header: String) {
        #expect(parseError { _ = try ByteRange.parse(header, size: 100) } == OCIParseError(.rangeInvalid, ""))
    }
}

@Suite struct AcceptHeaderTests {
    @Test(arguments: [
        ([String](), [String]()),
        ([""], []),
        (["application/json"], ["application/json"]),
        (["Application/Vnd.OCI.Image.Index.v1+JSON"], [MediaType.ociIndex]),
        (["a/b, c/d", "e/f"], ["a/b", "c/d", "e/f"]),
        (["a/b;q=0.5, c/d;q=0, e/f; q=0.000, g/h;Q=0.0"], ["a/b"]),
        (["a/b;q=0.01", "c/d; q=1"], ["a/b", "c/d"]),
        (["a/b; charset=utf-8 ,  c/d  "], ["a/b", "c/d"]),
        (["a/b, a/b, A/B"], ["a/b"]),
        ([",,, ;q=1, a/b,"], ["a/b"]),
        (["\(MediaType.dockerManifest), \(MediaType.dockerManifestList), \(MediaType.ociManifest);q=0.9, */*"],
         [MediaType.dockerManifest, MediaType.dockerManifestList, MediaType.ociManifest, "*/*"]),
    ])
    func table(_ values: [String], _ expected: [String]) {
        #expect(AcceptHeader.mediaTypes(values) == expected)
    }
}
