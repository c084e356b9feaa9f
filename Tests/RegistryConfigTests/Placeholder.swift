import Testing
@Test func placeholderRegistryConfigTests() { #expect(Bool(true)) }
