// The one translation from a parsed manifest (OCIModel) to the edges the
// engine counts (CASEngine). The manifest PUT handler and `regctl import`
// both use it, so a manifest imported from distribution's storage holds
// exactly the references a push of the same bytes would.

import CASEngine
import OCIModel

extension ManifestEdges {
    /// Throws `MANIFEST_BLOB_UNKNOWN` for a reference, `MANIFEST_INVALID` for a
    /// subject, whose digest algorithm the engine does not store. The
    /// children of an index that `indexChildren` lets be absent become
    /// sparse children (IndexChildPolicy).
    public init(_ parsed: ParsedManifest, indexChildren: IndexChildPolicy = .all) throws {
        var references: [BlobDigest] = [], sparse: [BlobDigest] = []
        // A digest listed twice (two platforms, one image) is required if either must exist.
        let children = parsed.kind == .index ? parsed.manifests : []
        let optional = Set(children.map(\.digest)).subtracting(children.filter { indexChildren.mustExist($0) }.map(\.digest))
        for r in parsed.references {
            guard let b = BlobDigest(r.description) else {
                throw RegistryError(.manifestBlobUnknown, detail: r.description)
            }
            if optional.contains(r) { sparse.append(b) } else { references.append(b) }
        }
        var subject: BlobDigest? = nil
        if let s = parsed.subject {
            guard let b = BlobDigest(s.digest.description) else {
                throw RegistryError(.manifestInvalid, "unsupported subject digest", detail: s.digest.description)
            }
            subject = b
        }
        self.init(mediaType: parsed.mediaType, references: references, subject: subject,
                  artifactType: parsed.artifactType, annotations: parsed.annotationsJSON, sparseChildren: sparse)
    }
}
