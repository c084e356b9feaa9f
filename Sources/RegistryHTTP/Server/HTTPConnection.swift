// One HTTP/1.1 connection (or one HTTP/2 stream, as HTTP/1 parts): read a request head, run the handler (which pulls
// the body as it needs it), write the response, repeat while keep-alive.
// Requests on one connection are served strictly in order, which keeps
// pipelining safe (HTTPServerPipelineHandler holds later requests back).
//
// Thread safety: runs as one child task per connection; nothing shared but
// the Sendable handler, metrics and ServerState.

import CASEngine
import Logging
import NIOCore
import NIOHTTP1

struct HTTPConnection {
    let channel: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    let handler: RegistryHandler
    let state: ServerState
    let metrics: RequestMetrics
    let logger: Logger
    /// Blob bodies may go out as `FileRegion` (sendfile): plaintext HTTP/1.1 only.
    let fileRegions: Bool

    /// Body bytes read and thrown away when a handler answered without
    /// consuming the request body; beyond this the connection is closed instead.
    static let discardLimit = 1 << 20

    func run() async {
        let id = state.add(channel.channel)
        defer { state.remove(id) }
        let peer = channel.channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" }
        do {
            try await channel.executeThenClose { inbound, outbound in
                let body = RequestBody(inbound.makeAsyncIterator())
                var responses = 0
                while state.setBusy(id, false) {
                    guard let head = try await body.nextHead() else { break }
                    state.setBusy(id, true)
                    let start = ContinuousClock.now
                    if head.headers.first(name: "Expect")?.lowercased() == "100-continue" {
                        try await outbound.write(.head(HTTPResponseHead(version: head.version, status: .continue)))
                    }
                    let response: HTTPResponse
                    let label: String
                    if let refused = limitError(head) {
                        (response, label) = (refused, "limits")
                    } else {
                        (response, label) = await handler.handle(head: head, body: body, peer: peer)
                    }
                    var keepAlive = head.isKeepAlive && !state.isShuttingDown
                        && response.status != .requestHeaderFieldsTooLarge && response.status != .uriTooLong
                    if !body.finished {
                        // A body the handler did not read: drain a small rest
                        // to keep the connection; a large (or unknown) rest is
                        // not waited for — answer now and close.
                        let chunked = head.headers.first(name: "Transfer-Encoding")?.lowercased().contains("chunked") ?? false
                        let declared = head.headers.first(name: "Content-Length").flatMap { Int($0) } ?? (chunked ? Int.max : 0)
                        if declared - body.bytesRead <= Self.discardLimit,
                           try await body.discard(upTo: Self.discardLimit) {
                            // drained
                        } else {
                            keepAlive = false
                        }
                    }
                    let bytesOut = try await write(response, for: head, keepAlive: keepAlive, to: outbound)
                    responses += 1
                    let elapsed = ContinuousClock.now - start
                    let nanos = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
                    metrics.record(method: head.method, route: label, status: response.status,
                                   bytesIn: body.bytesRead, bytesOut: bytesOut, durationNanoseconds: nanos)
                    if handler.configuration.accessLog {
                        // Never log headers: they may carry credentials.
                        logger.info("\(head.method.rawValue) \(head.uri) \(response.status.code)", metadata: [
                            "method": "\(head.method.rawValue)", "path": "\(head.uri)",
                            "status": "\(response.status.code)", "bytes_in": "\(body.bytesRead)",
                            "bytes_out": "\(bytesOut)", "duration_ms": "\(Double(nanos) / 1e6)",
                            "remote": "\(peer ?? "-")", "route": "\(label)",
                            "proto": "HTTP/\(head.version.major).\(head.version.minor)",
                        ])
                    }
                    if !keepAlive {
                        // Closing fails queued writes: wait until this
                        // response has left (ResponseEndHandler.swift).
                        if let signal = try? await channel.channel.pipeline.handler(type: ResponseEndHandler.self).get().signal {
                            await signal.wait(forEnds: responses)
                        }
                        break
                    }
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)", "remote": "\(peer ?? "-")"])
        }
    }

    /// 414 / 431 for a request line or header block over the configured limits.
    private func limitError(_ head: HTTPRequestHead) -> HTTPResponse? {
        let limits = handler.configuration.limits
        if head.uri.utf8.count > limits.maxRequestLineLength {
            return .error(RegistryError(.unsupported, "request target is longer than \(limits.maxRequestLineLength) bytes",
                                        status: .uriTooLong))
        }
        var size = head.method.rawValue.utf8.count + head.uri.utf8.count + 11
        for (name, value) in head.headers {
            size += name.utf8.count + value.utf8.count + 4
        }
        if size > limits.maxHeaderBytes {
            return .error(RegistryError(.unsupported, "request header fields are larger than \(limits.maxHeaderBytes) bytes",
                                        status: .requestHeaderFieldsTooLarge))
        }
        return nil
    }

    /// Writes the response; returns body bytes sent.
    private func write(_ response: HTTPResponse, for request: HTTPRequestHead, keepAlive: Bool,
                       to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws -> Int {
        var headers = response.headers
        headers.replaceOrAdd(name: "Docker-Distribution-API-Version", value: "registry/2.0")
        for extra in handler.configuration.extraHeaders {
            headers.add(name: extra.name, value: extra.value)
        }
        if !keepAlive {
            headers.replaceOrAdd(name: "Connection", value: "close")
        } else if request.version.major == 1 && request.version.minor == 0 {
            headers.replaceOrAdd(name: "Connection", value: "keep-alive")
        }
        let isHead = request.method == .HEAD

        // Prepare the body source before the head goes out, so a failure to
        // open the blob is still an error response, not a truncated one.
        var region: FileRegion? = nil
        var blob: (any BlobContent, ClosedRange<UInt64>)? = nil
        switch response.body {
        case .none:
            if response.status == .noContent || response.status == .notModified {
                headers.remove(name: "Content-Length")
            } else if !headers.contains(name: "Content-Length") {
                headers.add(name: "Content-Length", value: "0")
            }
        case .bytes(let bytes):
            headers.replaceOrAdd(name: "Content-Length", value: String(bytes.count))
        case .blob(let reader, let range):
            let r = range ?? (reader.size == 0 ? nil : 0...(reader.size - 1))
            if !isHead, let r {
                if fileRegions,
                   let (fd, offset) = try await handler.io(.reader, { try reader.makeDescriptor() }) {
                    let fh = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
                    region = FileRegion(fileHandle: fh, readerIndex: Int(offset + r.lowerBound),
                                        endIndex: Int(offset + r.upperBound) + 1)
                } else {
                    blob = (reader, r)
                }
            }
        }

        do {
            try await outbound.write(.head(HTTPResponseHead(version: request.version, status: response.status, headers: headers)))
        } catch {
            try? region?.fileHandle.close()
            throw error
        }
        var sent = 0
        if !isHead {
            if case .bytes(let bytes) = response.body, !bytes.isEmpty {
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
                sent = bytes.count
            } else if let region {
                sent = region.readableBytes
                do {
                    // FileRegionCloser closes the handle once NIO is done with it.
                    try await outbound.write(.body(.fileRegion(region)))
                } catch {
                    try? region.fileHandle.close()
                    throw error
                }
            } else if let (reader, r) = blob {
                var pos = r.lowerBound
                while pos <= r.upperBound {
                    let length = Int(min(UInt64(RegistryHandler.appendBatch), r.upperBound - pos + 1))
                    let at = pos
                    let bytes = try await handler.io(.reader) { try reader.read(offset: at, length: length) }
                    guard !bytes.isEmpty else {
                        throw StoreError(.corrupt, "blob \(reader.digest) ended early at \(pos)")
                    }
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
                    pos += UInt64(bytes.count)
                    sent += bytes.count
                }
            }
        }
        try await outbound.write(.end(nil))
        return sent
    }
}
