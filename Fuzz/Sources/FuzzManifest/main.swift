// ParsedManifest.parse under every Content-Type a client may send;
// the first byte picks the Content-Type, the rest is the body.
// The checks live in OCIModel's FuzzEntryPoints.manifest, which the corpus
// replay test (Tests/FuzzReplayTests) runs too.
@_spi(Fuzzing) import OCIModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        try FuzzEntryPoints.manifest(Array(UnsafeBufferPointer(start: data, count: size)))
    } catch let v as FuzzInvariantViolation {
        preconditionFailure(v.description)
    } catch {}
    return 0
}
