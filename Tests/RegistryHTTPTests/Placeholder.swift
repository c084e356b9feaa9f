import Testing
@Test func placeholderRegistryHTTPTests() { #expect(Bool(true)) }
