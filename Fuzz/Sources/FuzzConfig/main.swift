// config.yml with REGISTRY_* overrides: KEY=value lines, NUL, then YAML.
// The checks live in RegistryConfig's FuzzEntryPoints.config, which the corpus
// replay test (Tests/FuzzReplayTests) runs too.
@_spi(Fuzzing) import RegistryConfig

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        try FuzzEntryPoints.config(Array(UnsafeBufferPointer(start: data, count: size)))
    } catch let v as FuzzInvariantViolation {
        preconditionFailure(v.description)
    } catch {}
    return 0
}
