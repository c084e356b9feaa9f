// `regctl compact [--min-dead-ratio R] config.yml`: rewrite mostly-dead shared packs.

import ArgumentParser
import CASEngine

struct Compact: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rewrite shared packs whose dead bytes pass a ratio, reclaiming disk.",
        discussion: "`regctl serve` also compacts online after garbage collection frees records."
    )

    @Option(help: "Rewrite packs at least this fraction dead (0 < r <= 1).")
    var minDeadRatio: Double = 0.5
    @Argument(help: "Path to config.yml.")
    var config: String?

    func validate() throws {
        guard minDeadRatio > 0 && minDeadRatio <= 1 else { throw ValidationError("--min-dead-ratio must be in (0, 1]") }
    }

    func run() throws {
        let settings = try loadConfiguration(config)
        let store = try openStore(settings.storage.filesystem.rootDirectory, options: ServerSettings.store(from: settings))
        defer { store.close() }
        let r = try store.compact(minDeadRatio: minDeadRatio)
        print("compacted \(r.packsRewritten.count) packs, moved \(r.recordsMoved) records, reclaimed \(r.bytesReclaimed) bytes")
    }
}
