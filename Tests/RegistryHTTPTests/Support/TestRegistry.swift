// Runs a real RegistryServer on 127.0.0.1:0 over a real Store in a temp dir.

import CASEngine
import Foundation
import Logging
import NIOHTTP1
@testable import RegistryHTTP

struct TestRegistry: Sendable {
    let port: Int
    let server: RegistryServer
    /// The store's root (failpoint scope).
    var root: String = ""
    /// The store the server serves (tests run the collector beside it).
    var store: Store? = nil

    static func with(_ configure: (inout RegistryServer.Configuration) -> Void = { _ in },
                     authorizer: any RequestAuthorizer = AllowAllAuthorizer(),
                     storeOptions: StoreOptions = StoreOptions(),
                     logger: Logger? = nil,
                     root: String? = nil,
                     _ body: (TestRegistry) async throws -> Void) async throws {
        // `root`: an existing store the caller prepared (and removes); else a fresh one.
        let dir = root ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("berth-http-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if root == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let store = try Store.open(at: dir, options: storeOptions)
        defer { store.close() }

        var config = RegistryServer.Configuration()
        config.host = "127.0.0.1"
        config.port = 0
        config.deleteEnabled = true
        config.accessLog = false
        config.relativeURLs = true
        configure(&config)
        let logger = logger ?? {
            var quiet = Logger(label: "berth.http.test")
            quiet.logLevel = ProcessInfo.processInfo.environment["BERTH_HTTP_TEST_LOG"] != nil ? .trace : .critical
            return quiet
        }()
        let server = RegistryServer(configuration: config, store: store, authorizer: authorizer, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let registry = TestRegistry(port: try await server.boundPort(), server: server, root: store.rootPath, store: store)
            do {
                try await body(registry)
            } catch {
                server.shutdown()
                try? await group.waitForAll()
                throw error
            }
            server.shutdown()
            try await group.waitForAll()
        }
    }

    func send(_ method: HTTPMethod, _ uri: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
              chunks: [[UInt8]]? = nil) async throws -> TestResponse {
        try await TestHTTPClient.send(port: port, [TestRequest(method, uri, headers: headers, body: body, chunks: chunks)])[0]
    }

    func send(_ requests: [TestRequest], pipelined: Bool = false) async throws -> [TestResponse] {
        try await TestHTTPClient.send(port: port, requests, pipelined: pipelined)
    }

    /// Monolithic push; returns the digest string.
    @discardableResult
    func pushBlob(_ repo: String, _ bytes: [UInt8]) async throws -> String {
        let digest = Fixtures.sha256(bytes)
        let r = try await send(.POST, "/v2/\(repo)/blobs/uploads/?digest=\(digest)", body: bytes)
        guard r.status == .created else { throw FixtureError.unexpected("push blob: \(r.status) \(r.text)") }
        return digest
    }

    func putManifest(_ repo: String, _ reference: String, _ bytes: [UInt8],
                     mediaType: String = Fixtures.ociManifest) async throws -> TestResponse {
        try await send(.PUT, "/v2/\(repo)/manifests/\(reference)", headers: [("Content-Type", mediaType)], body: bytes)
    }
}

enum FixtureError: Error { case unexpected(String) }

enum Fixtures {
    static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    static let ociIndex = "application/vnd.oci.image.index.v1+json"
    static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"

    static func sha256(_ bytes: [UInt8]) -> String {
        BlobDigest.compute(bytes, .sha256).description
    }

    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// Pushes a config and one layer, returns an OCI image manifest over them.
    static func image(_ registry: TestRegistry, repo: String, seed: String,
                      mediaType: String = ociManifest, configType: String = "application/vnd.oci.image.config.v1+json",
                      layerType: String = "application/vnd.oci.image.layer.v1.tar",
                      artifactType: String? = nil, subject: (String, Int)? = nil) async throws -> [UInt8] {
        let config = bytes("{\"seed\":\"\(seed)\"}")
        let layer = bytes("layer-\(seed)")
        let c = try await registry.pushBlob(repo, config)
        let l = try await registry.pushBlob(repo, layer)
        var json = "{\"schemaVersion\":2,\"mediaType\":\"\(mediaType)\","
        if let artifactType { json += "\"artifactType\":\"\(artifactType)\"," }
        json += "\"config\":{\"mediaType\":\"\(configType)\",\"digest\":\"\(c)\",\"size\":\(config.count)},"
        json += "\"layers\":[{\"mediaType\":\"\(layerType)\",\"digest\":\"\(l)\",\"size\":\(layer.count)}]"
        if let subject {
            json += ",\"subject\":{\"mediaType\":\"\(ociManifest)\",\"digest\":\"\(subject.0)\",\"size\":\(subject.1)}"
        }
        json += ",\"annotations\":{\"org.example.seed\":\"\(seed)\"}}"
        return bytes(json)
    }
}
