import Testing
@testable import OCIModel

@Suite struct RepositoryNameTests {
    @Test(arguments: [
        "a", "library/ubuntu", "a/b/c/d", "foo.bar", "foo_bar", "foo__bar", "a--b", "a---b",
        "a-b.c_d__e", "0", "9x/0y", "my-org/my.repo/sub_dir",
        String(repeating: "a", count: 255),
    ])
    func valid(_ name: String) throws {
        #expect(RepositoryName.isValid(name))
        try RepositoryName.validate(name)
    }

    @Test(arguments: [
        "", "..", "a/../b", "a/./b", ".", "/a", "a/", "a//b", "A", "Library/ubuntu", "a.", ".a",
        "-a", "a-", "_a", "a_", "a___b", "a._b", "a.-b", "a..b", "a_-b", "a b", "a:b", "a@b",
        "ü", "a/-b", "a/b-", "a\u{0}", String(repeating: "a", count: 256),
        String(repeating: "ab/", count: 100) + "c",
    ])
    func invalid(_ name: String) {
        #expect(!RepositoryName.isValid(name))
        #expect(parseError { try RepositoryName.validate(name) } == OCIParseError(.nameInvalid, ""))
    }

    @Test func lengthBoundary() {
        #expect(RepositoryName.maxLength == 255)
        let name254 = String(repeating: "a", count: 125) + "/" + String(repeating: "b", count: 128)
        #expect(name254.utf8.count == 254)
        #expect(RepositoryName.isValid(name254))
        #expect(!RepositoryName.isValid(name254 + "cc"))
    }
}
