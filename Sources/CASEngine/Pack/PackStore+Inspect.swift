// Facts about pack files for compaction and fsck: which pack is active,
// what kind a pack is, how large it is.
//
// Thread safety: as PackStore (the active id is read under the write lock;
// the rest are preads/fstat on retained descriptors).

extension PackStore {
    /// The shared pack new small records go to (nil before the first append).
    var activePackID: UInt32? { withActive { $0 } }

    func kind(of id: UInt32) throws -> PackKind? {
        let file = try descriptorFor(id)
        return PackKind.detect(try PosixIO.readBytes(file.fd, count: 4, at: 0, path: file.path))
    }

    func fileSize(of id: UInt32) throws -> UInt64 {
        let file = try descriptorFor(id)
        return try PosixIO.fileSize(file.fd, path: file.path)
    }
}
