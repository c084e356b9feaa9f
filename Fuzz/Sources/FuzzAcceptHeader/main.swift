// AcceptHeader.mediaTypes: input lines are separate header values; results
// are lowercase, trimmed, non-empty and distinct.
import OCIModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let s = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let values = s.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let types = AcceptHeader.mediaTypes(values)
    precondition(Set(types).count == types.count, "duplicates")
    for t in types {
        // Byte-level checks: Swift's String comparison uses canonical
        // equivalence, so U+037E (Greek question mark) would "contain" ';'.
        let u = Array(t.utf8)
        precondition(!u.isEmpty)
        precondition(!u.contains(UInt8(ascii: ",")) && !u.contains(UInt8(ascii: ";")))
        precondition(!u.contains { $0 >= 0x41 && $0 <= 0x5A }, "ASCII uppercase left in \(t)")
        for edge in [u.first!, u.last!] { precondition(edge != 0x20 && edge != 0x09, "untrimmed") }
    }
    return 0
}
