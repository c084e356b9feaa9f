import Yams

/// Untyped configuration tree: what the YAML file says, before the environment
/// overlay and before typed decoding.
///
/// Invariants:
/// 1. Scalars keep their raw text, so `version: 0.1` stays "0.1" and any
///    scalar can be read as a string (as Go's yaml.v2 does for string fields).
/// 2. Mapping entries keep file order; each entry remembers the environment
///    variable that created or replaced it (`origin`), so errors can name it.
indirect enum ConfigNode: Equatable, Sendable {
    case null
    case scalar(Scalar)
    case sequence([ConfigNode])
    case mapping([ConfigEntry])

    struct Scalar: Equatable, Sendable {
        enum Kind: Equatable, Sendable {
            case string
            case bool(Bool)
            case int(Int)
            case float(Double)
        }

        var raw: String
        var kind: Kind
    }

    static let emptyMapping = ConfigNode.mapping([])

    /// Human name of this node's type, for error messages.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .scalar(let scalar):
            switch scalar.kind {
            case .string: return "a string"
            case .bool: return "a boolean"
            case .int: return "an integer"
            case .float: return "a number"
            }
        case .sequence: return "a list"
        case .mapping: return "a map"
        }
    }
}

struct ConfigEntry: Equatable, Sendable {
    var key: String
    var value: ConfigNode
    /// Environment variable that set this entry, nil when it came from the file.
    var origin: String?
}

extension ConfigNode {
    /// Parses one YAML document. An empty document is `.null`.
    /// `origin` is stamped on every mapping entry (used for env values).
    static func parse(yaml: String, origin: String? = nil) throws -> ConfigNode {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch {
            let what = origin.map { "environment variable \($0) is not valid YAML" } ?? "configuration is not valid YAML"
            throw ConfigurationError(keyPath: "", message: "\(what): \(error)")
        }
        guard let node else { return .null }
        return try ConfigNode(node, origin: origin, path: "")
    }

    private init(_ node: Node, origin: String?, path: String) throws {
        switch node {
        case .scalar(let scalar):
            let raw = scalar.string
            switch Tag.Name(rawValue: node.tag.description) {
            case .null:
                self = .null
            case .bool:
                self = node.bool.map { .scalar(Scalar(raw: raw, kind: .bool($0))) } ?? .scalar(Scalar(raw: raw, kind: .string))
            case .int:
                self = node.int.map { .scalar(Scalar(raw: raw, kind: .int($0))) } ?? .scalar(Scalar(raw: raw, kind: .string))
            case .float:
                self = node.float.map { .scalar(Scalar(raw: raw, kind: .float($0))) } ?? .scalar(Scalar(raw: raw, kind: .string))
            default:
                self = .scalar(Scalar(raw: raw, kind: .string))
            }
        case .sequence(let sequence):
            self = .sequence(try sequence.enumerated().map { index, child in
                try ConfigNode(child, origin: origin, path: ConfigNode.join(path, String(index)))
            })
        case .mapping(let mapping):
            var entries: [ConfigEntry] = []
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let keyScalar) = keyNode else {
                    throw ConfigurationError.invalid(path.isEmpty ? "(root)" : path, "map keys must be strings", origin: origin)
                }
                let key = keyScalar.string
                let childPath = ConfigNode.join(path, key)
                if entries.contains(where: { $0.key == key }) {
                    throw ConfigurationError.invalid(childPath, "key appears more than once", origin: origin)
                }
                entries.append(ConfigEntry(key: key, value: try ConfigNode(valueNode, origin: origin, path: childPath), origin: origin))
            }
            self = .mapping(entries)
        case .alias:
            throw ConfigurationError.invalid(path.isEmpty ? "(root)" : path, "YAML aliases are not supported", origin: origin)
        }
    }

    static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }
}
