// SIGHUP re-reads config.yml: storage.maintenance.readonly.enabled and
// storage.delete.enabled take effect on the running regctl serve without a
// restart (the seed's maintenance routine: read-only on, collect, off again).

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Config reload on SIGHUP", .serialized, .timeLimit(.minutes(5)),
       .enabled(if: RegistryProcess.Kind.underTest == .regctl, "distribution has no reload"))
struct ReloadInteropTests {
    func config(readOnly: Bool, delete: Bool) -> String {
        """
        version: 0.1
        storage:
          filesystem:
            rootdirectory: ./storage
          delete:
            enabled: \(delete)
          maintenance:
            readonly:
              enabled: \(readOnly)
        http:
          addr: 127.0.0.1:5000

        """
    }

    /// Polls until `probe` returns true (a reload is asynchronous), at most 10 s.
    func eventually(_ probe: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if try probe() { return true }
            usleep(100_000)
        }
        return false
    }

    @Test("read-only and delete modes flip on SIGHUP, reads keep working")
    func modesFollowTheConfigFile() throws {
        let work = try TemporaryDirectory("reload")
        let file = work.path("config.yml")
        try config(readOnly: false, delete: false).write(to: file, atomically: true, encoding: .utf8)
        // The environment (port, root) still overrides the file on every reload.
        let server = try RegistryProcess.start(configFile: file)
        defer { server.stop() }
        let upload = "\(server.baseURL)/v2/reload/app/blobs/uploads/"
        #expect(try HTTPProbe.request(method: "POST", url: upload).status == 202)
        let unknownManifest = "\(server.baseURL)/v2/reload/app/manifests/sha256:" + String(repeating: "0", count: 64)
        #expect(try HTTPProbe.request(method: "DELETE", url: unknownManifest).status == 405, "deletes start disabled")

        try config(readOnly: true, delete: false).write(to: file, atomically: true, encoding: .utf8)
        server.signal(SIGHUP)
        #expect(try eventually { try HTTPProbe.request(method: "POST", url: upload).status == 405 }, "\(server.log.suffix(2000))")
        let refused = try HTTPProbe.request(method: "POST", url: upload)
        #expect(try refused.json().description.contains("UNSUPPORTED"))
        #expect(try HTTPProbe.request(url: "\(server.baseURL)/v2/_catalog").status == 200, "reads keep working")

        try config(readOnly: false, delete: true).write(to: file, atomically: true, encoding: .utf8)
        server.signal(SIGHUP)
        #expect(try eventually { try HTTPProbe.request(method: "POST", url: upload).status == 202 })
        // Deletes are now enabled: an unknown manifest is a 404, not a 405.
        #expect(try HTTPProbe.request(method: "DELETE", url: unknownManifest).status == 404)
        #expect(server.log.contains("storage.maintenance.readonly.enabled"), "the reload names what changed")
    }
}
