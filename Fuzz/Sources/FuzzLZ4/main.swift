// LZ4 block decoding of pack payloads (3 bytes LE raw length, then the
// block) and the compressor's round trip.
// The checks live in CASEngine's FuzzEntryPoints.lz4Block, which the corpus
// replay test (Tests/FuzzReplayTests) runs too.
@_spi(Fuzzing) import CASEngine

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        try FuzzEntryPoints.lz4Block(Array(UnsafeBufferPointer(start: data, count: size)))
    } catch let v as FuzzInvariantViolation {
        preconditionFailure(v.description)
    } catch {}
    return 0
}
