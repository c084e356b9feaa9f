// Entry point for the FuzzConfig libFuzzer harness in Fuzz/ and the corpus
// replay test (Tests/FuzzReplayTests): config.yml text with REGISTRY_*
// environment overrides.
//
// Thread safety: stateless.
// Invariants:
//   1. `config` returns or throws `FuzzInvariantViolation`, whatever the bytes.
//   2. `RegistryConfiguration.parse` refuses input only with
//      `ConfigurationError`; what it accepts has version 0.1 and parses to
//      the same value again (no hidden state, no order dependence).

@_spi(Fuzzing)
public struct FuzzInvariantViolation: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

@_spi(Fuzzing)
public enum FuzzEntryPoints {
    /// Input: `KEY=value` lines (the environment), a NUL byte, then the YAML.
    /// Without a NUL the whole input is YAML and the environment is empty.
    public static func config(_ bytes: [UInt8]) throws {
        let cut = bytes.firstIndex(of: 0)
        let yaml = String(decoding: cut.map { bytes[($0 + 1)...] } ?? bytes[...], as: UTF8.self)
        var environment: [String: String] = [:]
        if let cut {
            for line in String(decoding: bytes[..<cut], as: UTF8.self).split(separator: "\n") {
                let kv = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                environment[String(kv[0])] = kv.count > 1 ? String(kv[1]) : ""
            }
        }
        let first: RegistryConfiguration
        do {
            first = try RegistryConfiguration.parse(yaml: yaml, environment: environment)
        } catch is ConfigurationError {
            return
        } catch {
            throw FuzzInvariantViolation("parse threw \(type(of: error)), not ConfigurationError: \(error)")
        }
        guard first.version == RegistryConfiguration.supportedVersion else {
            throw FuzzInvariantViolation("accepted version \(first.version)")
        }
        guard (try? RegistryConfiguration.parse(yaml: yaml, environment: environment)) == first else {
            throw FuzzInvariantViolation("a second parse of the same input differs")
        }
    }
}
