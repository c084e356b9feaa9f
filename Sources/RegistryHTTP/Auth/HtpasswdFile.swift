// Parses an Apache htpasswd file: `user:hash` lines; blank lines and lines
// starting with `#` are ignored.
//
// Thread safety: value type, Sendable.
// Invariants:
//   1. Only bcrypt entries (`$2y$`, `$2a$`, `$2b$`) are ever accepted; every
//      other format (`{SHA}`, `$apr1$`, crypt, plain text) is listed in
//      `rejected` with the user name so it can be logged, and never matches.
//   2. A later line for the same user replaces an earlier one (as Apache).

public struct HtpasswdFile: Sendable, Equatable {
    public struct Rejected: Sendable, Equatable {
        public var user: String
        public var format: String
        public var line: Int
    }

    /// user -> bcrypt hash (normalised to the `$2b$` prefix HummingbirdBcrypt verifies).
    public private(set) var entries: [String: String] = [:]
    public private(set) var rejected: [Rejected] = []

    public init(parsing text: String) {
        // Lines and the user:hash split are found on UTF-8 bytes, not
        // Characters: "\r\n" is one Character (so splitting on "\n" kept a
        // CRLF file as one line, FuzzHtpasswd regression-crlf), and a
        // combining mark after ':' would hide the separator.
        var lineNumber = 0
        for raw in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.last == UInt8(ascii: "\r") ? raw.dropLast() : raw[...]
            let trimmed = line.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            if trimmed.isEmpty || trimmed.first == UInt8(ascii: "#") { continue }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                rejected.append(Rejected(user: "", format: "malformed line (no ':')", line: lineNumber))
                continue
            }
            let user = String(decoding: line[..<colon], as: UTF8.self)
            let hash = String(decoding: line[line.index(after: colon)...], as: UTF8.self)
            if user.isEmpty {
                rejected.append(Rejected(user: "", format: "empty user name", line: lineNumber))
                continue
            }
            if let normalised = Self.bcrypt(hash) {
                entries[user] = normalised
            } else {
                entries[user] = nil
                rejected.append(Rejected(user: user, format: Self.formatName(hash), line: lineNumber))
            }
        }
    }

    /// `$2y$`/`$2a$`/`$2b$` + 2-digit cost + `$` + 53 characters; the prefix
    /// is rewritten to `$2b$` (same algorithm; the C verifier only knows a/b,
    /// and `$2a$`'s unbounded length is the only difference).
    static func bcrypt(_ hash: String) -> String? {
        let bytes = Array(hash.utf8)
        guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"),
              [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]),
              bytes[3] == UInt8(ascii: "$"), bytes[6] == UInt8(ascii: "$"),
              (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[4]),
              (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[5])
        else { return nil }
        let cost = Int(bytes[4] - UInt8(ascii: "0")) * 10 + Int(bytes[5] - UInt8(ascii: "0"))
        guard (4...31).contains(cost) else { return nil }
        let alphabet = Set("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        guard bytes[7...].allSatisfy({ alphabet.contains($0) }) else { return nil }
        return "$2b$" + String(hash.dropFirst(4))
    }

    static func formatName(_ hash: String) -> String {
        if hash.hasPrefix("{SHA}") { return "{SHA} (SHA-1)" }
        if hash.hasPrefix("$apr1$") { return "$apr1$ (Apache MD5)" }
        if hash.hasPrefix("$1$") { return "$1$ (MD5-crypt)" }
        if hash.hasPrefix("$5$") || hash.hasPrefix("$6$") { return "SHA-crypt" }
        if hash.hasPrefix("$2") { return "malformed bcrypt" }
        if hash.count == 13 { return "crypt (DES)" }
        return "plain text or unknown"
    }
}
