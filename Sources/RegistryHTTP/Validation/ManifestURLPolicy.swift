// Which `urls` the layers of a pushed image manifest may carry
// (`validation.manifests.urls.{allow,deny}`, `validation.disabled`).
//
// A layer with `urls` is a foreign (non-distributable) layer: Berth does not
// require its blob in the repository (ParsedManifest.references), so these
// URLs are what a client will fetch instead. Distribution checks the same
// descriptors (registry/storage/ocimanifesthandler.go, schema2manifesthandler.go);
// URLs on the config or on an index's children are not checked, as there.
//
// Thread safety: immutable after init; NSRegularExpression is Sendable and
// its matching methods are safe to call from many threads at once.
// Invariants:
//   1. Whatever the policy, a URL must parse and be http or https without a
//      fragment (distribution checks this even with validation disabled).
//   2. Enforced: a URL passes only if some allow pattern matches it and no
//      deny pattern does. No allow patterns: no URL passes (the documented
//      rule, and distribution's default; distribution's code also lets every
//      URL through when only `deny` is set: Berth follows the documentation).
//   3. Disabled (`validation.disabled: true`): invariant 1 only.
//   4. Patterns are compiled once, here; matching is unanchored, as Go's
//      `regexp.MatchString` (anchor with ^ and $ in the pattern).

import Foundation
import OCIModel

public struct ManifestURLPolicy: Sendable {
    let enforced: Bool
    let allow: [NSRegularExpression]
    let deny: [NSRegularExpression]

    /// Distribution's default: validation on, no allow list, so every
    /// foreign URL is refused.
    public static let refuseAll = ManifestURLPolicy(enforced: true, allow: [], deny: [])

    /// Only the URL shape is checked (invariant 1).
    public static let disabled = ManifestURLPolicy(enforced: false, allow: [], deny: [])

    /// Throws `PatternError` naming the first pattern that does not compile.
    public init(allow: [String], deny: [String]) throws {
        self.init(enforced: true, allow: try Self.compile(allow, list: "allow"), deny: try Self.compile(deny, list: "deny"))
    }

    private init(enforced: Bool, allow: [NSRegularExpression], deny: [NSRegularExpression]) {
        self.enforced = enforced
        self.allow = allow
        self.deny = deny
    }

    public struct PatternError: Error, CustomStringConvertible {
        /// "allow" or "deny".
        public let list: String
        public let index: Int
        public let pattern: String
        public var description: String {
            "validation.manifests.urls.\(list)[\(index)] \"\(pattern)\" is not a valid regular expression"
        }
    }

    private static func compile(_ patterns: [String], list: String) throws -> [NSRegularExpression] {
        try patterns.enumerated().map { index, pattern in
            do { return try NSRegularExpression(pattern: pattern) } catch {
                throw PatternError(list: list, index: index, pattern: pattern)
            }
        }
    }

    /// Throws MANIFEST_INVALID naming the first URL the policy refuses.
    func check(_ manifest: ParsedManifest) throws {
        for (i, layer) in manifest.layers.enumerated() {
            for url in layer.urls ?? [] {
                if let reason = refusal(url) {
                    throw RegistryError(.manifestInvalid, "layers[\(i)].urls: \(url) \(reason)", detail: url)
                }
            }
        }
    }

    /// Why `url` is refused, nil when it is allowed.
    func refusal(_ url: String) -> String? {
        guard let components = URLComponents(string: url),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              components.fragment == nil else {
            return "is not an http or https URL without a fragment"
        }
        guard enforced else { return nil }
        let range = NSRange(url.startIndex..., in: url)
        func matches(_ re: NSRegularExpression) -> Bool { re.firstMatch(in: url, range: range) != nil }
        if allow.isEmpty { return "is refused: validation.manifests.urls.allow is not set" }
        if !allow.contains(where: matches) { return "matches no validation.manifests.urls.allow pattern" }
        if deny.contains(where: matches) { return "matches a validation.manifests.urls.deny pattern" }
        return nil
    }
}
