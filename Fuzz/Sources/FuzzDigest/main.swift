// Digest(parsing:) and the grammar check agree; accepted digests round-trip.
import OCIModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let s = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let grammatical = Digest.matchesGrammar(s)
    do {
        let d = try Digest(parsing: s)
        precondition(grammatical, "accepted a digest outside the grammar")
        precondition(d.description == s, "description differs from input")
        precondition(["sha256", "sha512"].contains(d.algorithm))
        precondition((try? Digest(algorithm: d.algorithm, encoded: d.encoded)) == d)
    } catch let e as OCIParseError {
        if e.code == .digestUnsupported { precondition(grammatical, "unsupported but not grammatical") }
    } catch {
        preconditionFailure("unexpected error \(error)")
    }
    return 0
}
