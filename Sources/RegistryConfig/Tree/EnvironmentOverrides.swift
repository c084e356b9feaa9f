/// `REGISTRY_*` environment overrides, applied the way distribution's
/// `configuration/parser.go` applies them:
///
/// 1. Only variables whose name starts with `REGISTRY_` (case-sensitive)
///    count; `REGISTRY_CONFIGURATION_PATH` names the file and is skipped.
/// 2. Variables are applied in lexical order of their names, so
///    `REGISTRY_AUTH=htpasswd` lands before `REGISTRY_AUTH_HTPASSWD_PATH`.
/// 3. The rest of the name is split on `_`; each part matches an existing key
///    case-insensitively, walking down the tree. Missing sections are created.
///    New keys are stored lowercased (distribution lowercases map keys, and
///    every struct key in its YAML schema is lowercase).
/// 4. The value is parsed as a YAML value (`true`, `5000`, `[a, b]`,
///    `{"enabled": true}`), and replaces the addressed node entirely.
/// 5. A numeric part indexes a list; index == count appends.
///
/// Deliberate difference: when the last part matches an existing key that
/// differs only in case (`X-Content-Type-Options` in the file,
/// `REGISTRY_HTTP_HEADERS_X-CONTENT-TYPE-OPTIONS` in the environment), the
/// existing entry is replaced instead of keeping both spellings.
/// Unknown keys are not dropped here: typed decoding rejects them and names
/// the variable through `ConfigEntry.origin`.
enum EnvironmentOverrides {
    static let prefix = "REGISTRY_"
    static let configurationPathVariable = "REGISTRY_CONFIGURATION_PATH"

    /// Keys whose value may be a bare string naming the one sub-key
    /// (`storage: filesystem`, `auth: htpasswd`).
    static let stringOrMapKeys: Set<String> = ["storage", "auth"]

    static func apply(_ environment: [String: String], to root: ConfigNode) throws -> ConfigNode {
        var root = root
        let names = environment.keys
            .filter { $0.hasPrefix(prefix) && $0 != configurationPathVariable }
            .sorted()
        for name in names {
            let parts = name.dropFirst(prefix.count).split(separator: "_", omittingEmptySubsequences: false).map(String.init)
            if parts.contains(where: \.isEmpty) {
                throw ConfigurationError(keyPath: "", message: "environment variable \(name) does not name a config key")
            }
            let value = try ConfigNode.parse(yaml: environment[name] ?? "", origin: name)
            root = try set(value, at: parts[...], in: root, keyPath: "", variable: name)
        }
        return root
    }

    private static func set(
        _ value: ConfigNode, at parts: ArraySlice<String>, in node: ConfigNode, keyPath: String, variable: String
    ) throws -> ConfigNode {
        guard let part = parts.first else { return value }
        let rest = parts.dropFirst()
        switch normalizeStringOrMap(node, keyPath: keyPath) {
        case .null:
            if let index = Int(part), index == 0 {
                return .sequence([try set(value, at: rest, in: .null, keyPath: ConfigNode.join(keyPath, part), variable: variable)])
            }
            return try set(value, at: parts, in: .emptyMapping, keyPath: keyPath, variable: variable)
        case .mapping(var entries):
            let childPath = ConfigNode.join(keyPath, part.lowercased())
            let upper = part.uppercased()
            let index = entries.firstIndex { $0.key.uppercased() == upper }
            if rest.isEmpty {
                entries.removeAll { $0.key.uppercased() == upper }
                let entry = ConfigEntry(key: part.lowercased(), value: value, origin: variable)
                entries.insert(entry, at: min(index ?? entries.count, entries.count))
                return .mapping(entries)
            }
            if let index, entries[index].value != .null {
                entries[index].value = try set(value, at: rest, in: entries[index].value,
                                               keyPath: ConfigNode.join(keyPath, entries[index].key), variable: variable)
                return .mapping(entries)
            }
            let child = try set(value, at: rest, in: .null, keyPath: childPath, variable: variable)
            if let index {
                entries[index] = ConfigEntry(key: part.lowercased(), value: child, origin: variable)
            } else {
                entries.append(ConfigEntry(key: part.lowercased(), value: child, origin: variable))
            }
            return .mapping(entries)
        case .sequence(var items):
            guard let index = Int(part), index >= 0 else {
                throw ConfigurationError.invalid(keyPath, "is a list; \(part) is not a numeric index", origin: variable)
            }
            guard index <= items.count else {
                throw ConfigurationError.invalid(keyPath, "list index \(index) is past the end (\(items.count) items)", origin: variable)
            }
            if index == items.count { items.append(.null) }
            items[index] = try set(value, at: rest, in: items[index], keyPath: ConfigNode.join(keyPath, part), variable: variable)
            return .sequence(items)
        case .scalar:
            throw ConfigurationError.invalid(keyPath, "is a single value, so it has no key \(part.lowercased())", origin: variable)
        }
    }

    /// `storage: filesystem` -> `storage: {filesystem: null}` (top level only).
    static func normalizeStringOrMap(_ node: ConfigNode, keyPath: String) -> ConfigNode {
        guard stringOrMapKeys.contains(keyPath), case .scalar(let scalar) = node, case .string = scalar.kind else {
            return node
        }
        return .mapping([ConfigEntry(key: scalar.raw, value: .null, origin: nil)])
    }
}
