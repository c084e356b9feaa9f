// PackRecordHeader.decode, as is and with the header CRC sealed (so the
// field checks behind the CRC are reached).
@_spi(Fuzzing) import CASEngine

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for seal in [false, true] {
        do {
            try FuzzEntryPoints.packRecordHeader(bytes, sealCRC: seal)
        } catch let v as FuzzInvariantViolation {
            preconditionFailure(v.description)
        } catch {}
    }
    return 0
}
