// Tag history as the engine's callers see it: what moved a tag (action and
// user), the entries of a tag's history, and the policy that bounds it.
//
// Thread safety: value types.
// Invariants:
//   1. `TagAction` raw values are the `kind` byte of a tag_history value
//      (Index/SCHEMA.md): 1 and 2 predate the others and mean push and
//      delete, so entries written before actions existed read correctly.

/// What moved a tag.
public enum TagAction: UInt8, Sendable, CaseIterable {
    /// A manifest PUT by tag (or a journal replay of one).
    case push = 1
    /// The tag was deleted (by itself or with its manifest).
    case delete = 2
    case promote = 3
    case rollback = 4

    public var name: String {
        switch self {
        case .push: return "push"
        case .delete: return "delete"
        case .promote: return "promote"
        case .rollback: return "rollback"
        }
    }
}

/// Who moved a tag, and how: recorded in the tag's history entry.
public struct TagChange: Sendable, Equatable {
    public var action: TagAction
    /// The authenticated user; nil for anonymous access and the engine's own
    /// changes (retention, replay of entries that carried no user).
    public var by: String?

    public init(_ action: TagAction, by: String? = nil) {
        self.action = action
        self.by = by
    }
}

public struct TagHistoryEntry: Sendable, Equatable {
    public let digest: BlobDigest
    /// Unix seconds of the change.
    public let at: UInt64
    public let action: TagAction
    public let by: String?
    /// Store-wide sequence of the change: orders entries, and is the cursor
    /// of a paged history listing.
    public let sequence: UInt64

    public init(digest: BlobDigest, at: UInt64, action: TagAction = .push, by: String? = nil, sequence: UInt64 = 0) {
        self.digest = digest
        self.at = at
        self.action = action
        self.by = by
        self.sequence = sequence
    }
}

/// `berth.tags.history`.
public struct TagHistoryPolicy: Sendable, Equatable {
    /// Entries kept per tag, newest first (nil: no bound). The newest entry
    /// is always kept.
    public var maxEntries: Int?
    /// Seconds an entry is kept after it stopped being the tag's position
    /// (nil: no bound). The current entry never expires.
    public var maxAge: UInt64?
    /// Seconds a manifest named by a kept entry is protected from the
    /// untagged policy after it became untagged (0: not protected), so that
    /// a rollback still finds it.
    public var protect: UInt64

    public init(maxEntries: Int? = nil, maxAge: UInt64? = nil, protect: UInt64 = 0) {
        self.maxEntries = maxEntries
        self.maxAge = maxAge
        self.protect = protect
    }
}
