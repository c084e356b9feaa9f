// Compact JWS: the JOSE header and the registry token claims.
// The checks live in RegistryHTTP's FuzzEntryPoints.jwt, which the corpus
// replay test (Tests/FuzzReplayTests) runs too.
@_spi(Fuzzing) import RegistryHTTP

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        try FuzzEntryPoints.jwt(Array(UnsafeBufferPointer(start: data, count: size)))
    } catch let v as FuzzInvariantViolation {
        preconditionFailure(v.description)
    } catch {}
    return 0
}
