// Raw client bytes into the HTTP/1.1 server pipeline (first byte: chunk size).
// The checks live in RegistryHTTP's FuzzEntryPoints.httpFraming, which the corpus
// replay test (Tests/FuzzReplayTests) runs too.
@_spi(Fuzzing) import RegistryHTTP

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        try FuzzEntryPoints.httpFraming(Array(UnsafeBufferPointer(start: data, count: size)))
    } catch let v as FuzzInvariantViolation {
        preconditionFailure(v.description)
    } catch {}
    return 0
}
