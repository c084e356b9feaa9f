// Reference(parsing:): a tag is a valid tag, a digest a valid digest.
import OCIModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let s = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let ref = try? Reference(parsing: s) else { return 0 }
    switch ref {
    case .tag(let t):
        precondition(Tag.isValid(t) && t == s && !t.contains(":"))
    case .digest(let d):
        precondition(d.description == s)
    }
    precondition(ref.description == s)
    return 0
}
