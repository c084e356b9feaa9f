// distribution's notification event (notifications/event.go) and envelope
// (`application/vnd.docker.distribution.events.v1+json`: {"events": [...]}).
//
// Thread safety: value types.
// Invariants:
//   1. `id` is chosen once, when the event is written to the outbox, so every
//      redelivery carries the same id (receivers deduplicate on it).
//   2. The stored payload is the event's JSON exactly as sent.

import Foundation

struct NotificationEvent: Codable, Sendable, Equatable {
    static let envelopeMediaType = "application/vnd.docker.distribution.events.v1+json"

    struct Descriptor: Codable, Sendable, Equatable {
        var mediaType: String?
        var size: UInt64?
        var digest: String?
    }

    struct Target: Codable, Sendable, Equatable {
        var mediaType: String?
        var size: UInt64?
        var digest: String?
        var length: UInt64?
        var repository: String
        var fromRepository: String?
        var url: String?
        var tag: String?
        var references: [Descriptor]?
    }

    struct RequestRecord: Codable, Sendable, Equatable {
        var id: String
        var addr: String
        var host: String
        var method: String
        var useragent: String
    }

    struct Actor: Codable, Sendable, Equatable {
        var name: String?
    }

    struct Source: Codable, Sendable, Equatable {
        var addr: String
        var instanceID: String
    }

    var id: String
    var timestamp: String
    var action: String
    var target: Target
    var request: RequestRecord
    var actor: Actor
    var source: Source

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    static func decode(_ bytes: [UInt8]) throws -> NotificationEvent {
        try JSONDecoder().decode(NotificationEvent.self, from: Data(bytes))
    }

    /// `{"events":[…]}` from stored payloads (invariant 2: spliced, not re-encoded).
    static func envelope(_ payloads: [[UInt8]]) -> [UInt8] {
        var out = Array(#"{"events":["#.utf8)
        for (i, p) in payloads.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += p
        }
        out += Array("]}".utf8)
        return out
    }
}
