import Foundation

/// Typed reads from one YAML mapping, with the rule that every key must be
/// consumed: `finish()` rejects whatever is left, naming its full path.
///
/// Not thread-safe; one reader lives for the duration of one section decode.
final class SectionReader {
    let path: String
    private let entries: [ConfigEntry]
    private var consumed: Set<String> = []
    /// Origin of the section itself (the variable that created it), if any.
    let origin: String?

    init(path: String, node: ConfigNode, origin: String?) throws {
        self.path = path
        self.origin = origin
        switch node {
        case .null: entries = []
        case .mapping(let entries): self.entries = entries
        default:
            throw ConfigurationError.wrongType(path.isEmpty ? "configuration" : path, expected: "a map", origin: origin)
        }
    }

    var keys: [String] { entries.map(\.key) }

    func keyPath(_ key: String) -> String { ConfigNode.join(path, key) }

    /// Raw entry for `key`; marks it consumed. Null values read as absent.
    func entry(_ key: String) -> ConfigEntry? {
        consumed.insert(key)
        guard let entry = entries.first(where: { $0.key == key }), entry.value != .null else { return nil }
        return entry
    }

    func string(_ key: String) throws -> String? {
        guard let entry = entry(key) else { return nil }
        guard case .scalar(let scalar) = entry.value else {
            throw ConfigurationError.wrongType(keyPath(key), expected: "a string", origin: entry.origin)
        }
        return scalar.raw
    }

    func bool(_ key: String) throws -> Bool? {
        guard let entry = entry(key) else { return nil }
        guard case .scalar(let scalar) = entry.value, case .bool(let value) = scalar.kind else {
            throw ConfigurationError.wrongType(keyPath(key), expected: "a boolean (true or false)", origin: entry.origin)
        }
        return value
    }

    func int(_ key: String) throws -> Int? {
        guard let entry = entry(key) else { return nil }
        guard case .scalar(let scalar) = entry.value, case .int(let value) = scalar.kind else {
            throw ConfigurationError.wrongType(keyPath(key), expected: "an integer", origin: entry.origin)
        }
        return value
    }

    /// Go duration: a string such as "1h30m", or an integer of nanoseconds.
    func duration(_ key: String) throws -> TimeInterval? {
        guard let entry = entry(key) else { return nil }
        guard case .scalar(let scalar) = entry.value else {
            throw ConfigurationError.wrongType(keyPath(key), expected: "a duration such as \"10s\" or \"1h30m\"", origin: entry.origin)
        }
        if case .int(let nanoseconds) = scalar.kind { return TimeInterval(nanoseconds) / 1e9 }
        guard let seconds = GoDuration.parse(scalar.raw) else {
            throw ConfigurationError.invalid(keyPath(key),
                "\"\(scalar.raw)\" is not a duration (use a number with a unit: ns, us, ms, s, m, h, e.g. \"10s\" or \"1h30m\")",
                origin: entry.origin)
        }
        return seconds
    }

    func stringList(_ key: String) throws -> [String]? {
        guard let entry = entry(key) else { return nil }
        guard case .sequence(let items) = entry.value else {
            throw ConfigurationError.wrongType(keyPath(key), expected: "a list of strings", origin: entry.origin)
        }
        return try items.map { item in
            guard case .scalar(let scalar) = item else {
                throw ConfigurationError.wrongType(keyPath(key), expected: "a list of strings", origin: entry.origin)
            }
            return scalar.raw
        }
    }

    /// HTTP headers: each name maps to a value or a list of values
    /// (`http.headers`, `notifications.endpoints[].headers`).
    func headerMap(_ key: String) throws -> [String: [String]] {
        let section = try self.section(key)
        var result: [String: [String]] = [:]
        for name in section.keys {
            guard let entry = section.entry(name) else { result[name] = []; continue }
            switch entry.value {
            case .scalar(let scalar): result[name] = [scalar.raw]
            case .sequence: result[name] = try section.stringList(name) ?? []
            default:
                throw ConfigurationError.wrongType(section.keyPath(name), expected: "a list of strings", origin: entry.origin)
            }
        }
        try section.finish()
        return result
    }

    /// The items of a list of mappings under `key` (none when absent).
    func sectionList(_ key: String, _ expected: String) throws -> [SectionReader] {
        guard let entry = entry(key) else { return [] }
        guard case .sequence(let items) = entry.value else {
            throw ConfigurationError.wrongType(keyPath(key), expected: expected, origin: entry.origin)
        }
        return try items.enumerated().map { index, item in
            try SectionReader(path: keyPath(key) + "[\(index)]", node: item, origin: entry.origin)
        }
    }

    /// Free-form map of scalar values (`log.fields`).
    func stringMap(_ key: String) throws -> [String: String]? {
        guard let entry = entry(key) else { return nil }
        guard case .mapping(let children) = entry.value else {
            throw ConfigurationError.wrongType(keyPath(key), expected: "a map", origin: entry.origin)
        }
        var result: [String: String] = [:]
        for child in children {
            switch child.value {
            case .null: result[child.key] = ""
            case .scalar(let scalar): result[child.key] = scalar.raw
            default:
                throw ConfigurationError.wrongType(keyPath(key) + "." + child.key, expected: "a single value", origin: child.origin ?? entry.origin)
            }
        }
        return result
    }

    /// Nested section; an absent or null key gives an empty section.
    func section(_ key: String) throws -> SectionReader {
        let entry = entry(key)
        return try SectionReader(path: keyPath(key), node: entry?.value ?? .null, origin: entry?.origin)
    }

    /// Variable that set `key` (or this section), without consuming the key.
    func origin(of key: String) -> String? {
        entries.first(where: { $0.key == key })?.origin ?? origin
    }

    /// True when the key is present (even if null).
    func contains(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// Marks keys as read without decoding them (accepted, no effect).
    func ignore(_ keys: String...) { consumed.formUnion(keys) }

    /// Rejects every key that was not read.
    func finish() throws {
        for entry in entries where !consumed.contains(entry.key) {
            let full = keyPath(entry.key)
            throw ConfigurationError.unsupported(full, origin: entry.origin ?? origin, reason: RejectedKeys.reason(for: full))
        }
    }
}
