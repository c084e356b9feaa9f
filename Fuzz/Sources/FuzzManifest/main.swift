// ParsedManifest.parse under every Content-Type a client may send.
// Input: first byte picks the Content-Type, the rest is the body.
import OCIModel

let contentTypes: [String?] = [
    nil, "", MediaType.ociManifest, MediaType.ociIndex,
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/json", "application/vnd.oci.image.manifest.v1+json; charset=utf-8", "text/plain",
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let selector = bytes.first else { return 0 }
    let contentType = contentTypes[Int(selector) % contentTypes.count]
    guard let m = try? ParsedManifest.parse(Array(bytes.dropFirst()), contentType: contentType) else { return 0 }
    // Accepted: every reference is a well-formed digest, and the media type is a manifest type.
    precondition(MediaType.manifestTypes.contains(m.mediaType), "accepted media type \(m.mediaType)")
    for d in m.references { precondition((try? Digest(parsing: d.description)) == d, "reference \(d) does not round-trip") }
    return 0
}
