// Image indexes: ParsedManifest.parse as an OCI index, and the ImageIndex
// Codable model the referrers API encodes.
import Foundation
import OCIModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let m = try? ParsedManifest.parse(bytes, contentType: MediaType.ociIndex) {
        precondition(m.kind == .index && m.config == nil && m.layers.isEmpty, "index parsed as an image")
        // What the referrers API would serve for these descriptors decodes back to them.
        let served = ImageIndex.referrersResponse(m.manifests)
        let again = try? JSONDecoder().decode(ImageIndex.self, from: Data(served))
        precondition(again?.manifests == m.manifests, "referrers response does not round-trip")
    }
    if JSONDepthOK(bytes), let index = try? JSONDecoder().decode(ImageIndex.self, from: Data(bytes)) {
        _ = ImageIndex.referrersResponse(index.manifests)
    }
    return 0
}

/// The Codable path has no depth guard of its own (the server never feeds it
/// client bytes); keep the harness from measuring Foundation's recursion.
func JSONDepthOK(_ bytes: [UInt8]) -> Bool {
    var depth = 0
    for b in bytes where b == UInt8(ascii: "[") || b == UInt8(ascii: "{") {
        depth += 1
        if depth > 64 { return false }
    }
    return true
}
