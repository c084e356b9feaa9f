// `berth.tags.immutable` as the engine's `TagFreeze`: the first rule whose
// repository glob and one of whose tag globs match freezes the tag.
//
// Thread safety: values only; the closure captures an immutable copy of the
// rules, so a reload affects the requests that start after it.

import CASEngine
import RegistryConfig

/// The rules as config.yml gives them (RegistryConfig).
public typealias ImmutableTagRule = RegistryConfiguration.Berth.ImmutableRule

extension RegistryServer.Configuration {
    /// nil when no rule is configured (the engine then checks nothing).
    var tagFreeze: TagFreeze? {
        guard !immutableTags.isEmpty else { return nil }
        let rules = immutableTags
        return { repository, tag in
            for rule in rules where Glob.matches(rule.repository, repository) {
                if let pattern = rule.tags.first(where: { Glob.matches($0, tag) }) {
                    return "berth.tags.immutable: repository \"\(rule.repository)\", tags \"\(pattern)\""
                }
            }
            return nil
        }
    }
}
