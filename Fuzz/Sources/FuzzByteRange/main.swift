// ByteRange.parse: input is 8 bytes of blob size (little-endian) then the
// header; a served range always lies inside the blob.
import OCIModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard bytes.count >= 8 else { return 0 }
    let blobSize = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    let header = String(decoding: bytes[8...], as: UTF8.self)
    guard let r = try? ByteRange.parse(header, size: blobSize) else { return 0 }
    precondition(r.lowerBound <= r.upperBound && r.upperBound < blobSize, "range \(r) outside a blob of \(blobSize)")
    return 0
}
