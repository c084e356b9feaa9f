/// The one error the interop harness throws: a message that says what failed
/// and, where a tool is missing, which package installs it.
struct InteropError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
