// TLS test support: a throwaway PKI made with the `openssl` CLI, a NIOSSL
// HTTP/1.1 client that keeps one connection open, and `curl` as a real
// HTTP/2 client.

import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
@testable import RegistryHTTP

/// A CA, a server certificate for 127.0.0.1/localhost and a client certificate, in a temp dir.
struct TLSFixtures {
    let dir: String
    var caCert: String { dir + "/ca.crt" }
    var caKey: String { dir + "/ca.key" }
    var serverCert: String { dir + "/server.crt" }
    var serverKey: String { dir + "/server.key" }
    var clientCert: String { dir + "/client.crt" }
    var clientKey: String { dir + "/client.key" }

    static func make() throws -> TLSFixtures {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let f = TLSFixtures(dir: dir)
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", f.caKey, "-out", f.caCert, "-days", "2", "-subj", "/CN=Berth Test CA"])
        try f.issueServer(commonName: "berth-server-1", serial: 1001)
        try f.issue(name: "client", commonName: "berth-client", serial: 2001,
                    extensions: "extendedKeyUsage=clientAuth")
        return f
    }

    /// (Re)writes server.crt (leaf + CA: a chain) and server.key. Files are
    /// written elsewhere and renamed in, as an operator's tooling would.
    func issueServer(commonName: String, serial: Int) throws {
        try issue(name: "server", commonName: commonName, serial: serial,
                  extensions: "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth", chain: true)
    }

    func issue(name: String, commonName: String, serial: Int, extensions: String, chain: Bool = false) throws {
        let tmp = dir + "/tmp-\(name)"
        try extensions.write(toFile: tmp + ".ext", atomically: true, encoding: .utf8)
        try Self.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                          "-keyout", tmp + ".key", "-out", tmp + ".csr", "-subj", "/CN=\(commonName)"])
        try Self.openssl(["x509", "-req", "-in", tmp + ".csr", "-CA", caCert, "-CAkey", caKey,
                          "-set_serial", String(serial), "-days", "2", "-out", tmp + ".crt", "-extfile", tmp + ".ext"])
        if chain {
            let leaf = try String(contentsOfFile: tmp + ".crt", encoding: .utf8)
            let ca = try String(contentsOfFile: caCert, encoding: .utf8)
            try (leaf + ca).write(toFile: tmp + ".crt", atomically: false, encoding: .utf8)
        }
        _ = rename(tmp + ".key", dir + "/\(name).key")
        _ = rename(tmp + ".crt", dir + "/\(name).crt")
    }

    func serverTLS() -> RegistryServer.Configuration.TLS {
        var t = RegistryServer.Configuration.TLS(certificatePath: serverCert, keyPath: serverKey)
        t.reloadInterval = 0.2
        return t
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }

    static func openssl(_ args: [String]) throws {
        let r = try Curl.exec("/usr/bin/openssl", args)
        guard r.status == 0 else { throw FixtureError.unexpected("openssl \(args.first ?? ""): \(r.stderr)") }
    }
}

/// Runs `curl` (a real HTTP/2-capable client).
enum Curl {
    struct Result { var status: Int32; var stdout: String; var stderr: String }

    static func exec(_ tool: String, _ args: [String]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }

    /// curl in a detached thread so the cooperative pool is not blocked.
    static func run(_ args: [String]) async throws -> Result {
        try await withCheckedThrowingContinuation { c in
            Thread.detachNewThread {
                c.resume(with: Swift.Result(catching: { try exec("/usr/bin/curl", ["-sS", "--max-time", "90"] + args) }))
            }
        }
    }
}

extension Curl.Result: @unchecked Sendable {}

/// One NIOSSL + HTTP/1.1 client connection, kept open across requests.
final class TLSTestConnection {
    private var iterator: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
    let channel: any Channel
    let port: Int

    init(_ inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>,
         _ outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>, channel: any Channel, port: Int) {
        iterator = inbound.makeAsyncIterator()
        self.outbound = outbound
        self.channel = channel
        self.port = port
    }

    var peerCertificate: NIOSSLCertificate? {
        get async throws { try await channel.nioSSL_peerCertificate().get() }
    }

    func send(_ method: HTTPMethod, _ uri: String, body: [UInt8] = []) async throws -> TestResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "127.0.0.1:\(port)")
        if !body.isEmpty || method == .POST || method == .PUT { headers.add(name: "Content-Length", value: String(body.count)) }
        try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers)))
        if !body.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
        try await outbound.write(.end(nil))
        var head: HTTPResponseHead?
        var bytes: [UInt8] = []
        while let part = try await iterator.next() {
            switch part {
            case .head(let h): if h.status.code >= 200 { head = h }
            case .body(let b): bytes.append(contentsOf: b.readableBytesView)
            case .end:
                guard let head else { continue }
                return TestResponse(status: head.status, headers: head.headers, body: bytes)
            }
        }
        throw TestClientError.connectionClosed
    }

    /// A client configuration trusting the fixtures' CA.
    static func configuration(_ f: TLSFixtures, clientCertificate: Bool = false,
                              maximumVersion: TLSVersion? = nil) throws -> TLSConfiguration {
        var c = TLSConfiguration.makeClientConfiguration()
        c.trustRoots = .file(f.caCert)
        c.certificateVerification = .fullVerification
        if let maximumVersion { c.maximumTLSVersion = maximumVersion }
        if clientCertificate {
            c.certificateChain = try NIOSSLCertificate.fromPEMFile(f.clientCert).map { .certificate($0) }
            c.privateKey = .privateKey(try NIOSSLPrivateKey(file: f.clientKey, format: .pem))
        }
        c.applicationProtocols = ["http/1.1"]
        return c
    }

    /// Connects (TLS handshake included), runs `body`, closes. When the
    /// connection fails, throws the first error the pipeline saw (the TLS
    /// handshake failure or alert) rather than whatever the request's write
    /// or read ran into after it ("I/O on closed channel" under load).
    static func with<T: Sendable>(port: Int, _ configuration: TLSConfiguration,
                                  _ body: (TLSTestConnection) async throws -> T) async throws -> T {
        let context = try NIOSSLContext(configuration: configuration)
        let recorder = FirstErrorRecorder()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    try ch.pipeline.syncOperations.addHandler(recorder)
                    try ch.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: ch)
                }
            }
        do {
            return try await channel.executeThenClose { inbound, outbound in
                try await body(TLSTestConnection(inbound, outbound, channel: channel.channel, port: port))
            }
        } catch {
            throw recorder.first.withLock { $0 } ?? error
        }
    }
}

/// Remembers the first error fired through the pipeline after TLS.
final class FirstErrorRecorder: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let first = Mutex<(any Error)?>(nil)

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        first.withLock { if $0 == nil { $0 = error } }
        context.fireErrorCaught(error)
    }
}
