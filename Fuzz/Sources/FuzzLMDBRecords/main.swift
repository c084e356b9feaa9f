// The metadata value decoders (blob, upload, review, manifest entry,
// referrer records; digest keys). The first byte picks the decoder.
@_spi(Fuzzing) import CASEngine

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        try FuzzEntryPoints.lmdbRecord(bytes)
    } catch let v as FuzzInvariantViolation {
        preconditionFailure(v.description)
    } catch {}
    return 0
}
