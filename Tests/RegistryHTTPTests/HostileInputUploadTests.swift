import Foundation
import NIOHTTP1
import Testing

/// Upload sessions under attack: out-of-order chunks, ids of other
/// repositories, guessed ids, and bodies that lie about their length.
@Suite("Hostile input: uploads")
struct HostileInputUploadTests {
    /// Overlapping and gapped PATCH chunks: 416 with the current Range, and the
    /// upload continues from where it was.
    @Test func overlapAndGapAre416AndUploadStaysUsable() async throws {
        try await TestRegistry.with { r in
            let victim = try await Victim.push(r)
            let data = Array((0..<30).map { UInt8($0) })
            let start = try await r.send(.POST, "/v2/\(Victim.repo)/blobs/uploads/")
            let location = try #require(start["Location"])
            let first = try await r.send(.PATCH, location, headers: [("Content-Range", "0-9")], body: Array(data[0..<10]))
            #expect(first.status == .accepted && first["Range"] == "0-9")

            let bad: [(String, [UInt8])] = [
                ("0-9", Array(data[0..<10])),       // replay
                ("5-14", Array(data[5..<15])),      // overlap
                ("9-18", Array(data[9..<19])),      // overlap by one
                ("11-20", Array(data[11..<21])),    // gap of one
                ("20-29", Array(data[20..<30])),    // gap
                ("10-12", Array(data[10..<20])),    // range shorter than the body
                ("10-29", Array(data[10..<20])),    // range longer than the body
            ]
            for (range, body) in bad {
                let resp = try await r.send(.PATCH, location, headers: [("Content-Range", range)], body: body)
                #expect(resp.status == .rangeNotSatisfiable, "Content-Range \(range): \(resp.status)")
                #expect(resp["Range"] == "0-9", "Content-Range \(range): Range \(resp["Range"] ?? "nil")")
                #expect(resp.errorCode == "RANGE_INVALID", "Content-Range \(range): \(resp.text)")
                let status = try await r.send(.GET, location)
                #expect(status.status == .noContent && status["Range"] == "0-9", "after \(range)")
            }
            // Malformed Content-Range: 416 too, nothing appended.
            // 0-18446744073709551615 used to trap the server computing its 2^64-byte length.
            for range in ["bytes=x-y", "10-", "-10", "12-10", "10-18446744073709551616",
                          "0-18446744073709551615", "10-18446744073709551615"] {
                let resp = try await r.send(.PATCH, location, headers: [("Content-Range", range)], body: [1])
                #expect(resp.status == .rangeNotSatisfiable, "Content-Range \(range): \(resp.status) \(resp.errorCode ?? "-")")
                let status = try await r.send(.GET, location)
                #expect(status["Range"] == "0-9", "after \(range)")
            }

            for range in ["0-18446744073709551615", "10-18446744073709551615"] {
                let put = try await r.send(.PUT, "\(location)?digest=\(Fixtures.sha256(data))",
                                           headers: [("Content-Range", range)], body: [1])
                #expect(put.status == .rangeNotSatisfiable, "PUT Content-Range \(range): \(put.status) \(put.errorCode ?? "-")")
                let status = try await r.send(.GET, location)
                #expect(status["Range"] == "0-9", "after PUT \(range)")
            }

            let second = try await r.send(.PATCH, location, headers: [("Content-Range", "10-19")], body: Array(data[10..<20]))
            #expect(second.status == .accepted && second["Range"] == "0-19")
            let digest = Fixtures.sha256(data)
            let put = try await r.send(.PUT, "\(location)?digest=\(digest)", headers: [("Content-Range", "20-29")],
                                       body: Array(data[20..<30]))
            #expect(put.status == .created, "\(put.text)")
            let get = try await r.send(.GET, "/v2/\(Victim.repo)/blobs/\(digest)")
            #expect(get.body == data)
            try await victim.assertIntact(r, after: "chunk overlap and gaps")
        }
    }

    /// Every verb on an upload id through another repository's URL is 404
    /// BLOB_UPLOAD_UNKNOWN, and the owner's session is untouched.
    @Test func uploadOfAnotherRepositoryIsUnknown() async throws {
        try await TestRegistry.with { r in
            let victim = try await Victim.push(r)
            let start = try await r.send(.POST, "/v2/\(Victim.repo)/blobs/uploads/")
            let id = try #require(start["Docker-Upload-UUID"])
            let location = try #require(start["Location"])
            let part = Array("owner's bytes".utf8)
            let p1 = try await r.send(.PATCH, location, body: part)
            #expect(p1.status == .accepted)

            let intruder = Array("intruder".utf8)
            for repo in ["attacker/app", "victim", "victim/app/x", "victim/ap"] {
                let uri = "/v2/\(repo)/blobs/uploads/\(id)"
                let requests: [(HTTPMethod, String, [(String, String)], [UInt8]?)] = [
                    (.GET, uri, [], nil),
                    (.PATCH, uri, [], intruder),
                    (.PATCH, uri, [("Content-Range", "\(part.count)-\(part.count + intruder.count - 1)")], intruder),
                    (.PUT, "\(uri)?digest=\(Fixtures.sha256(part))", [], nil),
                    (.PUT, "\(uri)?digest=\(Fixtures.sha256(part + intruder))", [], intruder),
                    (.DELETE, uri, [], nil),
                ]
                for (method, u, headers, body) in requests {
                    let resp = try await r.send(method, u, headers: headers, body: body)
                    #expect(resp.status == .notFound && resp.errorCode == "BLOB_UPLOAD_UNKNOWN",
                            "\(method) \(u): \(resp.status) \(resp.text)")
                }
                for d in [Fixtures.sha256(part), Fixtures.sha256(part + intruder)] {
                    let head = try await r.send(.HEAD, "/v2/\(repo)/blobs/\(d)")
                    #expect(head.status == .notFound)
                }
            }
            let status = try await r.send(.GET, location)
            #expect(status.status == .noContent && status["Range"] == "0-\(part.count - 1)")
            let tail = Array(" and the rest".utf8)
            let put = try await r.send(.PUT, "\(location)?digest=\(Fixtures.sha256(part + tail))", body: tail)
            #expect(put.status == .created)
            let get = try await r.send(.GET, "/v2/\(Victim.repo)/blobs/\(Fixtures.sha256(part + tail))")
            #expect(get.body == part + tail)
            try await victim.assertIntact(r, after: "cross-repository upload ids")
        }
    }

    /// Ids the server never issued: 404 BLOB_UPLOAD_UNKNOWN, never 500.
    @Test func guessedAndMalformedIdsAreUnknown() async throws {
        try await TestRegistry.with { r in
            let victim = try await Victim.push(r)
            // A live session in the same repository must not be reachable by a near miss.
            let start = try await r.send(.POST, "/v2/\(Victim.repo)/blobs/uploads/")
            let real = try #require(start["Docker-Upload-UUID"])
            let ids = [
                UUID().uuidString.lowercased(), UUID().uuidString, real.uppercased(), String(real.dropLast()),
                real + "0", real.replacingOccurrences(of: "-", with: ""), "..", ".", "x", "0",
                String(repeating: "a", count: 199), String(repeating: "a", count: 201),
                String(repeating: "f", count: 400), String(repeating: "f", count: 401), String(repeating: "0", count: 4000),
                "..%2fx", "%2e%2e", "00000000-0000-0000-0000-000000000000", "a;b", "a:b", "a@b", "_", "-",
            ]
            for id in ids {
                let uri = "/v2/\(Victim.repo)/blobs/uploads/\(id)"
                for (method, body) in [(HTTPMethod.GET, nil), (.PATCH, [UInt8(1)]), (.DELETE, nil),
                                       (.PUT, [UInt8(1)])] as [(HTTPMethod, [UInt8]?)] {
                    let u = method == .PUT ? "\(uri)?digest=\(Fixtures.sha256([1]))" : uri
                    let resp = try await r.send(method, u, body: body)
                    if id.contains("%") {
                        // Percent-encoding anywhere in the path is rejected by the router.
                        #expect(resp.status == .badRequest && resp.errorCode == "NAME_INVALID", "\(method) \(id)")
                    } else {
                        #expect(resp.status == .notFound && resp.errorCode == "BLOB_UPLOAD_UNKNOWN",
                                "\(method) id \(id.prefix(40))…(\(id.count)): \(resp.status) \(resp.text)")
                    }
                }
            }
            let status = try await r.send(.GET, "/v2/\(Victim.repo)/blobs/uploads/\(real)")
            #expect(status.status == .noContent && status["Range"] == "0-0")
            try await victim.assertIntact(r, after: "guessed upload ids")
        }
    }

    /// Issued ids: UUID layout, lowercase hex, 128 random bits (no fixed
    /// version/variant nibbles), never repeated.
    @Test func issuedIdsAreRandomAndUnique() async throws {
        try await TestRegistry.with { r in
            var seen = Set<String>()
            var requests: [TestRequest] = []
            for _ in 0..<300 { requests.append(TestRequest(.POST, "/v2/ids/blobs/uploads/")) }
            let responses = try await r.send(requests)
            for resp in responses {
                #expect(resp.status == .accepted)
                let id = try #require(resp["Docker-Upload-UUID"])
                let bytes = Array(id.utf8)
                #expect(bytes.count == 36, "\(id)")
                for (i, b) in bytes.enumerated() {
                    if [8, 13, 18, 23].contains(i) {
                        #expect(b == UInt8(ascii: "-"), "\(id)")
                    } else {
                        #expect((b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66), "\(id)")
                    }
                }
                #expect(resp["Location"] == "/v2/ids/blobs/uploads/\(id)")
                #expect(seen.insert(id).inserted, "id issued twice: \(id)")
            }
            #expect(seen.count == 300)
            // Bits are spread: every hex position varies (all 128 bits are random).
            let ids = Array(seen)
            for pos in 0..<36 where ![8, 13, 18, 23].contains(pos) {
                let values = Set(ids.map { Array($0.utf8)[pos] })
                #expect(values.count > 4, "position \(pos) barely varies")
            }
        }
    }
}
