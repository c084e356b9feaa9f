// Value types reported by PackStore (recovery and scans).
//
// Thread safety: value types, Sendable.
// Invariants:
//   1. A Truncation's bytes were never acknowledged: they lie past the last
//      record that passed its header CRC, length and payload CRC checks.

struct PackRecoveryReport: Sendable, Equatable {
    struct Truncation: Sendable, Equatable {
        var packID: UInt32
        var fromOffset: UInt64
        var bytes: UInt64
    }

    var truncated: [Truncation] = []
    /// Torn tails found by a read-only open (left in place: a writable open truncates them).
    var tornTailsLeft: [Truncation] = []

    struct Damage: Sendable, Equatable {
        var packID: UInt32
        /// First offset that is not a valid record.
        var fromOffset: UInt64
        /// A later offset holding a valid record header: why nothing was truncated.
        var nextValidHeader: UInt64
    }

    /// Highest shared pack with an invalid record followed by a valid one (not
    /// truncated, sealed; fsck decides).
    var damaged: [Damage] = []
    /// Files named like packs whose first bytes are neither pack magic (left alone for fsck).
    var unrecognized: [UInt32] = []
    /// Stray `*.pack.tmp` files (a crash while creating a shared pack) that were removed.
    var removedTemporaryFiles: [String] = []
}

struct PackScanResult: Sendable, Equatable {
    var kind: PackKind
    /// Offset just past the last valid record (where a torn tail starts).
    var validEnd: UInt64
    var fileSize: UInt64
    var recordCount: Int
}
