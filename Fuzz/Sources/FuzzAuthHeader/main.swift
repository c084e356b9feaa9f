// Authorization header values: Basic credentials and Bearer tokens.
// The checks live in RegistryHTTP's FuzzEntryPoints.authorizationHeader, which the corpus
// replay test (Tests/FuzzReplayTests) runs too.
@_spi(Fuzzing) import RegistryHTTP

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        try FuzzEntryPoints.authorizationHeader(Array(UnsafeBufferPointer(start: data, count: size)))
    } catch let v as FuzzInvariantViolation {
        preconditionFailure(v.description)
    } catch {}
    return 0
}
