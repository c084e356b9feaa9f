// RepositoryName.validate and isValid agree, and accepted names have the
// properties the router and the engine's keys rely on.
import OCIModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let s = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let valid = RepositoryName.isValid(s)
    let validated = (try? RepositoryName.validate(s)) != nil
    precondition(valid == validated, "validate and isValid disagree")
    if valid {
        let u = Array(s.utf8)
        precondition(u.count <= RepositoryName.maxLength)
        precondition(!u.contains(0) && !u.contains(UInt8(ascii: "%")) && !s.contains("..") && !s.contains("//"))
        precondition(u.first != UInt8(ascii: "/") && u.last != UInt8(ascii: "/"))
        precondition(s.split(separator: "/").allSatisfy { $0 != "." && $0 != ".." })
    }
    return 0
}
