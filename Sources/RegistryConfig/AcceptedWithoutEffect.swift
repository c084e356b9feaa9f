/// Distribution keys Berth accepts but that change nothing, each with why.
/// Refusing them would refuse distribution's own shipped configuration
/// (`cmd/registry/config-example.yml`, the `registry:3` image's
/// `/etc/distribution/config.yml`, sets `storage.cache.blobdescriptor` and
/// `storage.tag.concurrencylimit`); accepting them silently would hide that
/// they do nothing. So they are accepted, range-checked, listed here and
/// logged by `regctl serve` at startup (the README's "Accepted without effect").
extension RegistryConfiguration {
    public struct IneffectiveKey: Sendable, Equatable {
        public let keyPath: String
        public let reason: String
    }

    /// The keys this configuration sets that have no effect in Berth, in key order.
    public var keysWithoutEffect: [IneffectiveKey] {
        var out: [IneffectiveKey] = []
        if storage.cache.blobDescriptor != nil {
            out.append(.init(keyPath: "storage.cache.blobdescriptor",
                             reason: "Berth's index already serves blob descriptors from memory"))
        }
        if storage.cache.blobDescriptorSize != nil {
            out.append(.init(keyPath: "storage.cache.blobdescriptorsize",
                             reason: "Berth's index already serves blob descriptors from memory"))
        }
        if storage.filesystem.maxThreads != nil {
            out.append(.init(keyPath: "storage.filesystem.maxthreads", reason: "Berth sizes its own I/O thread pool"))
        }
        if storage.redirect.disable {
            out.append(.init(keyPath: "storage.redirect.disable", reason: "the filesystem driver never redirects"))
        }
        if storage.tag.concurrencyLimit != nil {
            out.append(.init(keyPath: "storage.tag.concurrencylimit",
                             reason: "distribution bounds its concurrent tag-file reads when deleting a manifest; "
                                 + "Berth finds a manifest's tags in one index transaction, so there is nothing to bound"))
        }
        return out
    }
}
