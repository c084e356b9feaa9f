// RepositoryName.validate / isValid.
// The checks live in OCIModel's FuzzEntryPoints.repositoryName, which the corpus
// replay test (Tests/FuzzReplayTests) runs too.
@_spi(Fuzzing) import OCIModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        try FuzzEntryPoints.repositoryName(Array(UnsafeBufferPointer(start: data, count: size)))
    } catch let v as FuzzInvariantViolation {
        preconditionFailure(v.description)
    } catch {}
    return 0
}
