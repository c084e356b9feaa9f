import Foundation

/// skopeo (containers/image) as docker, podman and CRI-O use the registry.
///
/// `--insecure-policy` because signature policy is not what these tests are
/// about; TLS verification is off because the server is plain HTTP on 127.0.0.1.
enum Skopeo {
    static func executable() throws -> String {
        try Command.require("skopeo", package: "skopeo (Debian: apt-get install skopeo)")
    }

    /// `format` is skopeo's `--format` (`oci`, `v2s2`); nil keeps the source's.
    static func copy(
        _ source: String, _ destination: String, all: Bool = false, preserveDigests: Bool = true,
        format: String? = nil
    ) throws {
        var args = ["--insecure-policy", "copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false"]
        if all { args.append("--all") }
        if let format { args += ["--format", format] }
        if preserveDigests { args.append("--preserve-digests") }
        args += [source, destination]
        try Command.check(try executable(), args)
    }

    /// The manifest bytes exactly as the registry serves them.
    static func inspectRaw(_ reference: String) throws -> Data {
        try Command.check(try executable(), ["--insecure-policy", "inspect", "--raw", "--tls-verify=false", reference]).stdout
    }

    /// Runs `inspect --raw` and returns the whole result, for expected failures.
    static func tryInspectRaw(_ reference: String) throws -> CommandResult {
        try Command.run(try executable(), ["--insecure-policy", "inspect", "--raw", "--tls-verify=false", reference])
    }

    /// Tags of a repository (`GET /v2/<name>/tags/list`, following pagination).
    static func listTags(_ repository: String) throws -> [String] {
        let result = try Command.check(try executable(), ["--insecure-policy", "list-tags", "--tls-verify=false", repository])
        let object = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
        return object?["Tags"] as? [String] ?? []
    }

    static func delete(_ reference: String) throws {
        try Command.check(try executable(), ["--insecure-policy", "delete", "--tls-verify=false", reference])
    }
}
