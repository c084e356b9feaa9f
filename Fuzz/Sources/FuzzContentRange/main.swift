// ContentRange.parse: accepted ranges are ordered and their length cannot overflow.
import OCIModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let s = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let r = try? ContentRange.parse(s) else { return 0 }
    precondition(r.start <= r.end)
    precondition(r.length >= 1)  // traps on overflow (0-18446744073709551615 did, before the fix)
    return 0
}
