// SIGHUP: re-read config.yml + REGISTRY_* and apply what can change on a
// running server — `storage.maintenance.readonly.enabled` and
// `storage.delete.enabled` — and re-check the TLS files. Every other changed
// section is logged as needing a restart. A config that no longer parses is
// logged and ignored; the server keeps running as it was.

import Dispatch
import Foundation
import Logging
import RegistryConfig
import RegistryHTTP
import ServiceLifecycle

struct ConfigReloader: Service {
    let path: String?
    let server: RegistryServer
    let logger: Logger
    let initial: RegistryConfiguration

    func run() async throws {
        let (signals, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler { continuation.yield() }
        source.resume()
        defer { source.cancel() }
        await cancelWhenGracefulShutdown {
            var current = initial
            for await _ in signals {
                current = reload(from: current)
            }
        }
    }

    /// Returns the configuration now in effect.
    func reload(from current: RegistryConfiguration) -> RegistryConfiguration {
        let next: RegistryConfiguration
        do {
            next = try RegistryConfiguration.load(path: path, environment: ProcessInfo.processInfo.environment)
        } catch {
            logger.error("config reload failed; keeping the running configuration", metadata: ["error": "\(error)"])
            return current
        }
        let changes = Self.changes(from: current, to: next)
        let applied = server.updateModes(readOnly: next.storage.maintenance.readOnly.enabled,
                                         deleteEnabled: next.storage.delete.enabled)
        let tlsReloaded = server.reloadTLS()
        logger.notice("configuration reloaded", metadata: [
            "applied": "\(applied.isEmpty ? "none" : applied.joined(separator: ", "))",
            "needs_restart": "\(changes.isEmpty ? "none" : changes.joined(separator: ", "))",
            "tls_files_reloaded": "\(tlsReloaded)",
        ])
        // Keep restart-only settings as they run, so they are reported again next time.
        var effective = current
        effective.storage.maintenance.readOnly = next.storage.maintenance.readOnly
        effective.storage.delete = next.storage.delete
        return effective
    }

    /// Sections that changed but only take effect after a restart.
    static func changes(from a: RegistryConfiguration, to b: RegistryConfiguration) -> [String] {
        var out: [String] = []
        var sa = a.storage, sb = b.storage
        sa.maintenance.readOnly = sb.maintenance.readOnly
        sa.delete = sb.delete
        if sa != sb { out.append("storage") }
        if a.http != b.http { out.append("http") }
        if a.auth != b.auth { out.append("auth") }
        if a.log != b.log { out.append("log") }
        if a.validation != b.validation { out.append("validation") }
        if a.catalog != b.catalog { out.append("catalog") }
        if a.tags != b.tags { out.append("tags") }
        if a.health != b.health { out.append("health") }
        if a.berth != b.berth { out.append("berth") }
        if a.notifications != b.notifications { out.append("notifications") }
        if a.database != b.database { out.append("database") }
        return out
    }
}
