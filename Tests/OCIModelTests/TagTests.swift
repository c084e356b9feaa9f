import Testing
@testable import OCIModel

@Suite struct TagTests {
    @Test(arguments: [
        "latest", "v1.0.0", "_", "_x", "A", "1", "1.2-rc.3_build", "UPPER-case.Mixed_",
        String(repeating: "t", count: 128),
    ])
    func valid(_ tag: String) throws {
        #expect(Tag.isValid(tag))
        try Tag.validate(tag)
    }

    @Test(arguments: [
        "", ".x", "-x", "a:b", "a/b", "a b", "a+b", "tåg", "x\n",
        String(repeating: "t", count: 129),
        Fixtures.a,
    ])
    func invalid(_ tag: String) {
        #expect(!Tag.isValid(tag))
        #expect(parseError { try Tag.validate(tag) } == OCIParseError(.tagInvalid, ""))
    }
}

@Suite struct ReferenceTests {
    @Test func tagReference() throws {
        #expect(try Reference(parsing: "latest") == .tag("latest"))
        #expect(try Reference(parsing: "v1.2.3").description == "v1.2.3")
    }

    @Test func digestReference() throws {
        let r = try Reference(parsing: Fixtures.a)
        #expect(r == .digest(try Digest(parsing: Fixtures.a)))
        #expect(r.description == Fixtures.a)
        #expect(try Reference(parsing: Fixtures.sha512) == .digest(try Digest(parsing: Fixtures.sha512)))
    }

    @Test(arguments: [
        ("", OCIParseError.Code.tagInvalid),
        (".hidden", .tagInvalid),
        ("sha256:ABC", .digestInvalid),
        ("sha256:abc", .digestInvalid),
        ("sha384:" + String(repeating: "a", count: 96), .digestUnsupported),
        ("a:b:c", .referenceInvalid),
        ("latest:", .referenceInvalid),
        (":latest", .referenceInvalid),
        ("Foo:bar", .referenceInvalid),
    ])
    func invalid(_ input: String, _ code: OCIParseError.Code) {
        #expect(parseError { _ = try Reference(parsing: input) }?.code == code)
    }
}
