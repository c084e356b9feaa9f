// The modes an operator may flip on a running server (config reload on
// SIGHUP): `storage.maintenance.readonly.enabled` and `storage.delete.enabled`.
// Handlers read them per request, so a change applies to the next request.
//
// Thread safety: Sendable; two independent atomics. A request reads each
// value once, so it sees either the old or the new setting, never a torn one.

import Synchronization

public final class ServerModes: Sendable {
    private let readOnlyFlag: Atomic<Bool>
    private let deleteFlag: Atomic<Bool>

    public init(readOnly: Bool, deleteEnabled: Bool) {
        readOnlyFlag = Atomic(readOnly)
        deleteFlag = Atomic(deleteEnabled)
    }

    public var readOnly: Bool { readOnlyFlag.load(ordering: .acquiring) }
    public var deleteEnabled: Bool { deleteFlag.load(ordering: .acquiring) }

    func set(readOnly: Bool?, deleteEnabled: Bool?) {
        if let readOnly { readOnlyFlag.store(readOnly, ordering: .releasing) }
        if let deleteEnabled { deleteFlag.store(deleteEnabled, ordering: .releasing) }
    }
}
