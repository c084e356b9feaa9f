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
        precondition(!t.isEmpty && t == t.lowercased() && !t.contains(",") && !t.contains(";"))
        precondition(t.first != " " && t.last != " " && t.first != "\t" && t.last != "\t")
    }
    return 0
}
