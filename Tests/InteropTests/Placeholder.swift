import Testing
@Test func interopPlaceholder() { #expect(Bool(true)) }
