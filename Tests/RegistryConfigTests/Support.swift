import Foundation
import Testing
@testable import RegistryConfig

func fixture(_ name: String) throws -> String {
    let url = try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"))
    return try String(contentsOf: url, encoding: .utf8)
}

func fixturePath(_ name: String) throws -> String {
    try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")).path
}

/// Parses and expects failure; returns the error for further checks.
func expectFailure(
    yaml: String, environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
) -> ConfigurationError? {
    do {
        let config = try RegistryConfiguration.parse(yaml: yaml, environment: environment)
        Issue.record("expected a ConfigurationError, got \(config)", sourceLocation: sourceLocation)
        return nil
    } catch let error as ConfigurationError {
        return error
    } catch {
        Issue.record("expected a ConfigurationError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

let minimal = "version: 0.1\n"
