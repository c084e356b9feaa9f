// ByteRange.parse (GET Range): 8 bytes LE blob size, then the header.
// The checks live in OCIModel's FuzzEntryPoints.byteRange, which the corpus
// replay test (Tests/FuzzReplayTests) runs too.
@_spi(Fuzzing) import OCIModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        try FuzzEntryPoints.byteRange(Array(UnsafeBufferPointer(start: data, count: size)))
    } catch let v as FuzzInvariantViolation {
        preconditionFailure(v.description)
    } catch {}
    return 0
}
