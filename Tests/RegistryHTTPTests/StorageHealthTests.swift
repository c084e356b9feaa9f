// `health.storagedriver`: the threshold state machine without IO, then a
// real server whose store probe is made to fail by the `store.health.probe`
// failpoint (debug builds). Every wait polls a state the server reaches,
// bounded; nothing sleeps for synchronisation.
//
// Serialized: a failpoint is armed by name, so two of these tests arming it
// at once would replace each other's action.

import CASEngine
import Foundation
import NIOHTTP1
import Testing
@testable import RegistryHTTP

@Suite("Storage health check (health.storagedriver)", .serialized)
struct StorageHealthTests {
    struct ProbeError: Error, CustomStringConvertible { var description: String { "disk on fire" } }

    @Test func thresholdConsecutiveFailuresMakeUnhealthyAndOneSuccessHeals() {
        let check = StorageHealthCheck(interval: 1, threshold: 3)
        #expect(check.isHealthy)
        check.record(ProbeError())
        check.record(ProbeError())
        #expect(check.isHealthy, "two failures are below the threshold of 3")
        #expect(check.failingChecks.isEmpty)
        check.record(nil)
        check.record(ProbeError())
        check.record(ProbeError())
        #expect(check.isHealthy, "a success in between resets the count")
        check.record(ProbeError())
        #expect(!check.isHealthy)
        #expect(check.failingChecks == [StorageHealthCheck.checkName: "disk on fire"])
        check.record(ProbeError())
        check.record(nil)
        #expect(check.isHealthy)
        #expect(check.failingChecks.isEmpty)
        #expect(check.probes == 8)
        #expect(check.failedProbes == 6)
    }

    @Test func unsetThresholdAndIntervalTakeDistributionsDefaults() {
        let check = StorageHealthCheck(interval: 0, threshold: 0)
        #expect(check.interval == 10)
        #expect(check.threshold == 1)
        check.record(ProbeError())
        #expect(!check.isHealthy, "a single failure marks the state unhealthy")
    }

    /// Polls `condition` every 5 ms for at most 30 s.
    static func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw FixtureError.unexpected("timed out waiting: \(what)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    static func debugHealth(_ port: Int) async throws -> TestResponse {
        try await TestHTTPClient.send(port: port, [TestRequest(.GET, "/debug/health")])[0]
    }

    @Test(.enabled(if: Failpoint.isCompiledIn, "failpoints are compiled into debug builds only"))
    func failingProbesGateTheAPIUntilAProbePasses() async throws {
        try await TestRegistry.with({
            $0.storageHealth = .init(interval: 0.01, threshold: 3)
            $0.debug = .init(host: "127.0.0.1", port: 0)
        }) { r in
            let check = try #require(r.server.storageHealthCheck)
            let debugPort = try #require(try await r.server.debugPort())
            try await Self.eventually("a passing probe") { check.probes > 0 }
            #expect(try await r.send(.GET, "/v2/").status == .ok)

            Failpoint.arm(.healthProbe, .fail, scope: r.root)
            defer { Failpoint.disarm(.healthProbe) }
            try await Self.eventually("the API answers 503") { try await r.send(.GET, "/v2/").status == .serviceUnavailable }
            #expect(check.failedProbes >= 3)
            let gated = try await r.send(.GET, "/v2/app/manifests/latest")
            #expect(gated.status == .serviceUnavailable)
            #expect(gated.errorCode == "UNAVAILABLE")
            #expect(gated.text.contains("health check failed: please see /debug/health"))
            let health = try await Self.debugHealth(debugPort)
            #expect(health.status == .serviceUnavailable)
            let failing = try #require(health.json[StorageHealthCheck.checkName] as? String)
            #expect(failing.contains("store.health.probe"))

            Failpoint.disarm(.healthProbe)
            try await Self.eventually("the API answers again") { try await r.send(.GET, "/v2/").status == .ok }
            let healed = try await Self.debugHealth(debugPort)
            #expect(healed.status == .ok)
            #expect(healed.text == "{}")
        }
    }

    @Test(.enabled(if: Failpoint.isCompiledIn, "failpoints are compiled into debug builds only"))
    func disabledCheckNeverGatesAndDebugHealthProbesOnDemand() async throws {
        try await TestRegistry.with({ $0.debug = .init(host: "127.0.0.1", port: 0) }) { r in
            #expect(r.server.storageHealthCheck == nil)
            let debugPort = try #require(try await r.server.debugPort())
            Failpoint.arm(.healthProbe, .fail, scope: r.root)
            defer { Failpoint.disarm(.healthProbe) }
            // The on-demand probe sees the failure; the API is not gated by it.
            let health = try await Self.debugHealth(debugPort)
            #expect(health.status == .serviceUnavailable)
            #expect(health.json[StorageHealthCheck.checkName] is String)
            #expect(try await r.send(.GET, "/v2/").status == .ok)
            Failpoint.disarm(.healthProbe)
            #expect(try await Self.debugHealth(debugPort).status == .ok)
        }
    }
}
