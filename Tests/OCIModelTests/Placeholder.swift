import Testing
@Test func placeholderOCIModelTests() { #expect(Bool(true)) }
