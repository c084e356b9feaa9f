/// The one error every OCIModel parser throws.
///
/// Equality compares `code` only, so tests (and callers) can build the
/// expected error without matching the human message.
public struct OCIParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case digestInvalid
        case digestUnsupported
        case nameInvalid
        case tagInvalid
        case referenceInvalid
        case manifestInvalid
        /// Docker schema1 and other formats Berth deliberately refuses.
        case manifestUnsupported
        case rangeInvalid
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public static func == (lhs: OCIParseError, rhs: OCIParseError) -> Bool {
        lhs.code == rhs.code
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
