// Boolean flags the way distribution's command line (cobra on spf13/pflag)
// reads them, so that operators' commands keep working:
//
//   --dry-run            true
//   --dry-run=false      strconv.ParseBool's set: 1 0 t f T F true false
//                        TRUE FALSE True False; anything else is an error
//   -d, -d=false, -dm    shorthands, alone, with =value, or clustered
//   --dry-run false      NOT a value: a bool never takes the next argument,
//                        so `false` is a positional argument
//   --                   ends the flags; everything after is positional
//
// The last occurrence of a flag wins (`-d --dry-run=0` is false).
//
// Two uses: `parse(strict: true)` is the whole grammar of the `registry`
// personality (unknown flags fail with pflag's messages), and `normalize`
// rewrites regctl's argv for swift-argument-parser, which knows only
// `--flag`: known bool flags become `--flag` (true) or nothing (false),
// every other token passes through untouched for ArgumentParser to judge.

enum PflagBool {
    struct Flag: Sendable, Equatable {
        let name: String
        let shorthand: Character?

        init(_ name: String, _ shorthand: Character? = nil) {
            self.name = name
            self.shorthand = shorthand
        }

        /// How pflag names the flag in errors: `-d, --dry-run` or `--reindex`.
        var display: String { shorthand.map { "-\($0), --\(name)" } ?? "--\(name)" }
    }

    /// pflag's error messages (spf13/pflag errors.go), verbatim in shape.
    enum Failure: Error, Equatable, CustomStringConvertible {
        case invalidValue(Flag, String)
        case unknownFlag(String)
        case unknownShorthand(Character, in: String)
        case badSyntax(String)

        var description: String {
            switch self {
            case let .invalidValue(flag, value):
                "invalid argument \(goQuote(value)) for \(goQuote(flag.display)) flag: strconv.ParseBool: parsing \(goQuote(value)): invalid syntax"
            case let .unknownFlag(name): "unknown flag: --\(name)"
            // Go's %q of a byte is a character literal: 'x'.
            case let .unknownShorthand(c, shorthands): "unknown shorthand flag: '\(c)' in -\(shorthands)"
            case let .badSyntax(token): "bad flag syntax: \(token)"
            }
        }
    }

    struct Parsed: Equatable {
        /// Final value of every flag that appeared (absent: not given).
        var values: [String: Bool] = [:]
        /// Everything that is not a known bool flag, in order (with
        /// `strict`, only positional arguments; `--` itself is dropped).
        var rest: [String] = []
    }

    /// Go's strconv.ParseBool.
    static func parseBool(_ s: String) -> Bool? {
        switch s {
        case "1", "t", "T", "true", "TRUE", "True": true
        case "0", "f", "F", "false", "FALSE", "False": false
        default: nil
        }
    }

    static func parse(_ args: [String], flags: [Flag], strict: Bool) throws(Failure) -> Parsed {
        var out = Parsed()
        var i = 0
        while i < args.count {
            let token = args[i]
            i += 1
            if token == "--" {
                // pflag drops the terminator; ArgumentParser needs to see it.
                if !strict { out.rest.append(token) }
                out.rest += args[i...]
                break
            }
            if token.count < 2 || !token.hasPrefix("-") {
                out.rest.append(token)
            } else if token.hasPrefix("--") {
                try long(token, flags, strict, &out)
            } else {
                try shorts(token, flags, strict, &out)
            }
        }
        return out
    }

    /// regctl's argv after the subcommand name, rewritten for ArgumentParser.
    static func normalize(_ args: [String], flags: [Flag]) throws(Failure) -> [String] {
        let parsed = try parse(args, flags: flags, strict: false)
        // Set flags go first: before any `--` in the rest.
        return flags.filter { parsed.values[$0.name] == true }.map { "--\($0.name)" } + parsed.rest
    }

    private static func long(_ token: String, _ flags: [Flag], _ strict: Bool, _ out: inout Parsed) throws(Failure) {
        let body = token.dropFirst(2)
        if body.first == "-" || body.first == "=" {
            if strict { throw .badSyntax(token) }
            out.rest.append(token)
            return
        }
        let name = String(body.prefix { $0 != "=" })
        let value: String? = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : nil
        guard let flag = flags.first(where: { $0.name == name }) else {
            if strict { throw .unknownFlag(name) }
            out.rest.append(token)
            return
        }
        try set(flag, value, &out)
    }

    private static func shorts(_ token: String, _ flags: [Flag], _ strict: Bool, _ out: inout Parsed) throws(Failure) {
        let shorthands = String(token.dropFirst())
        // Lenient: a cluster with anything but known bools goes to
        // ArgumentParser whole (it may be another command's option).
        var staged = out
        var rest = Substring(shorthands)
        while let c = rest.first {
            guard let flag = flags.first(where: { $0.shorthand == c }) else {
                if strict { throw .unknownShorthand(c, in: shorthands) }
                out.rest.append(token)
                return
            }
            rest = rest.dropFirst()
            if rest.first == "=" {
                try set(flag, String(rest.dropFirst()), &staged)
                rest = ""
            } else {
                try set(flag, nil, &staged)
            }
        }
        out = staged
    }

    private static func set(_ flag: Flag, _ value: String?, _ out: inout Parsed) throws(Failure) {
        guard let value else {
            out.values[flag.name] = true
            return
        }
        guard let b = parseBool(value) else { throw .invalidValue(flag, value) }
        out.values[flag.name] = b
    }
}

/// Go's %q for the strings these messages quote: printable text as is,
/// quotes, backslashes and control characters escaped.
func goQuote(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case _ where u.value < 0x20 || u.value == 0x7f:
            out += "\\x" + String(u.value, radix: 16).leftPadded(to: 2)
        default: out.unicodeScalars.append(u)
        }
    }
    return out + "\""
}

private extension String {
    func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
