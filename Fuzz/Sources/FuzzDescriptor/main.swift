// JSONDecoder of Descriptor: anything it accepts encodes and decodes back equal.
import Foundation
import OCIModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // Foundation's recursive decoder is not ours to fuzz for stack depth.
    guard bytes.count(where: { $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "{") }) <= 64 else { return 0 }
    guard let d = try? JSONDecoder().decode(Descriptor.self, from: Data(bytes)) else { return 0 }
    let encoded = try! JSONEncoder().encode(d)
    let again = try! JSONDecoder().decode(Descriptor.self, from: encoded)
    precondition(again == d, "Descriptor does not round-trip")
    return 0
}
