import Foundation

/// SHA-256 through coreutils' `sha256sum`: the harness must not share code
/// with the server it checks, so it does not reuse the engine's hashing.
enum SHA256 {
    /// `sha256:<hex>` of the file's bytes.
    static func digest(ofFile url: URL) throws -> String {
        let result = try Command.check("sha256sum", ["--binary", url.path])
        return "sha256:" + (try hex(from: result.stdoutText))
    }

    /// `sha256:<hex>` of `data`.
    static func digest(of data: Data) throws -> String {
        let result = try Command.check("sha256sum", ["--binary", "-"], stdin: data)
        return "sha256:" + (try hex(from: result.stdoutText))
    }

    private static func hex(from line: String) throws -> String {
        let hex = String(line.prefix { $0 != " " })
        guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else {
            throw InteropError("sha256sum printed something unexpected: \(line)")
        }
        return hex
    }
}
