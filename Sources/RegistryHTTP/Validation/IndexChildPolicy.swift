// Which children of a pushed image index must already be in the repository
// (`validation.manifests.indexes.platforms` / `platformlist`,
// `validation.disabled`), as distribution v3 decides it
// (registry/handlers/app.go, registry/storage/manifestlisthandler.go).
//
// A child that need not exist is passed to the engine as a sparse child:
// counted like any reference when the repository holds it, recorded as an
// absent child otherwise (MetaStore+Manifests invariant 6), so a platform
// pushed after its index is kept by the index all the same.
//
// Thread safety: immutable value.
// Invariants:
//   1. `.all` (the default): every child must exist, else 400
//      MANIFEST_BLOB_UNKNOWN (OCI's default).
//   2. `.none`, or validation disabled: no child need exist.
//   3. `.list(platforms)`: a child must exist iff its platform's os and
//      architecture equal one listed entry (variant ignored, as in
//      distribution); a child without a platform need not. An empty list
//      checks every child, as distribution does.
//   4. Only the children of an index are concerned: an image manifest's
//      config and layers must always exist, whatever the policy.

import OCIModel
import RegistryConfig

public enum IndexChildPolicy: Sendable, Equatable {
    case all
    case none
    case list([RegistryConfiguration.Validation.Platform])

    public init(_ validation: RegistryConfiguration.Validation) {
        if validation.disabled { self = .none; return }
        switch validation.manifests.indexes.platforms {
        case .all: self = .all
        case .none: self = .none
        case .list: self = validation.manifests.indexes.platformList.isEmpty ? .all : .list(validation.manifests.indexes.platformList)
        }
    }

    /// Whether this child of an index must already be in the repository.
    func mustExist(_ child: Descriptor) -> Bool {
        switch self {
        case .all: return true
        case .none: return false
        case .list(let platforms):
            guard let p = child.platform else { return false }
            return platforms.contains { $0.os == p.os && $0.architecture == p.architecture }
        }
    }
}
