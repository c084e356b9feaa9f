import Foundation

/// A scratch directory removed when the value goes away.
final class TemporaryDirectory {
    let url: URL

    init(_ label: String = "work") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("berth-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ component: String) -> URL { url.appendingPathComponent(component) }

    deinit { try? FileManager.default.removeItem(at: url) }
}
