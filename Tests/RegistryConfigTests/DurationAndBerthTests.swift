import Foundation
import Testing
@testable import RegistryConfig

@Suite struct DurationTests {
    @Test(arguments: [
        ("0", 0.0), ("10s", 10), ("1m", 60), ("24h", 86_400), ("168h", 604_800), ("1h30m", 5_400),
        ("500ms", 0.5), ("1.5h", 5_400), ("2h45m30.5s", 9_930.5), ("-1m", -60), ("100us", 0.0001),
        ("100µs", 0.0001), ("250ns", 0.000_000_25), ("+3s", 3),
    ])
    func parsesGoDurations(_ text: String, _ seconds: Double) throws {
        let parsed = try #require(GoDuration.parse(text))
        #expect(abs(parsed - seconds) < 1e-12)
    }

    @Test(arguments: ["", "10", "1x", "h", "1.2.3s", "s10", "1h 30m", "--1s", "."])
    func rejectsMalformed(_ text: String) {
        #expect(GoDuration.parse(text) == nil)
    }

    @Test func integerDurationIsNanoseconds() throws {
        let yaml = "version: 0.1\nhealth:\n  storagedriver:\n    interval: 2000000000\n"
        #expect(try RegistryConfiguration.parse(yaml: yaml, environment: [:]).health.storageDriver.interval == 2)
    }

    @Test func healthIntervalMayBeSubSecond() throws {
        let yaml = "version: 0.1\nhealth:\n  storagedriver:\n    enabled: true\n    interval: 250ms\n    threshold: 2\n"
        let health = try RegistryConfiguration.parse(yaml: yaml, environment: [:]).health.storageDriver
        #expect(health.enabled && health.interval == 0.25 && health.threshold == 2)
    }

    @Test func durationsInSections() throws {
        let config = try RegistryConfiguration.parse(yaml: minimal, environment: [
            "REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_AGE": "1h30m",
            "REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_INTERVAL": "10s",
            "REGISTRY_HTTP_DRAINTIMEOUT": "500ms",
        ])
        #expect(config.storage.maintenance.uploadPurging.age == 5_400)
        #expect(config.storage.maintenance.uploadPurging.interval == 10)
        #expect(config.http.drainTimeout == 0.5)
    }

    @Test func formatRoundTrips() {
        #expect(GoDuration.format(5_400) == "1h30m")
        #expect(GoDuration.format(0) == "0s")
        #expect(GoDuration.format(86_400) == "24h")
    }
}

@Suite struct BerthSectionTests {
    @Test func defaults() {
        let berth = RegistryConfiguration.defaults.berth
        #expect(berth.smallBlobThreshold == 1_048_576)
        #expect(berth.compression)
        #expect(berth.gc.gracePeriod == 86_400)
        #expect(berth.metadata.mapSize == 1 << 30)
        #expect(berth.metadata.maxMapSize == 4 << 40)
        #expect(berth.gc.deleteUntagged == false)
        #expect(berth.gc.untaggedDelay == 3_600)
        #expect(berth.gc.interval == 60)
        #expect(berth.limits.manifestMaxSize == 4_194_304)
        #expect(berth.limits.maxUploadSessions == 10_000)
        #expect(berth.limits.maxUploadSize == nil)
    }

    @Test func fromFile() throws {
        let berth = try RegistryConfiguration.parse(yaml: fixture("full-supported.yml"), environment: [:]).berth
        #expect(berth.smallBlobThreshold == 65_536)
        #expect(berth.compression == false)
        #expect(berth.gc.gracePeriod == 172_800)
        #expect(berth.metadata.mapSize == 16_777_216)
        #expect(berth.metadata.maxMapSize == 1_073_741_824)
        #expect(berth.gc.deleteUntagged)
        #expect(berth.gc.untaggedDelay == 1_800)
        #expect(berth.gc.interval == 10)
        #expect(berth.limits.manifestMaxSize == 1_048_576)
        #expect(berth.limits.maxUploadSessions == 100)
        #expect(berth.limits.maxUploadSize == 10_737_418_240)
    }

    @Test func retentionPolicies() throws {
        let yaml = """
            version: 0.1
            berth:
              retention:
                dryrun: true
                policies:
                  - repositories: ["infra/*", base]
                    deleteuntagged: true
                    untaggeddelay: 48h
                    keeptags:
                      - patterns: ["v2.*"]
                        mostrecentlypushedcount: 5
                        mostrecentlypulledcount: 3
                        pushedwithin: 168h
                        pulledwithin: 720h
                      - patterns: [latest]
                  - repositories: ["**"]
            """
        let r = try RegistryConfiguration.parse(yaml: yaml, environment: [:]).berth.retention
        #expect(r.dryRun && r.policies.count == 2)
        #expect(r.policies[0].repositories == ["infra/*", "base"] && r.policies[0].deleteUntagged && r.policies[0].untaggedDelay == 48 * 3600)
        let k = r.policies[0].keepTags[0]
        #expect(k.patterns == ["v2.*"] && k.mostRecentlyPushedCount == 5 && k.mostRecentlyPulledCount == 3)
        #expect(k.pushedWithin == 168 * 3600 && k.pulledWithin == 720 * 3600)
        #expect(r.policies[0].keepTags[1].patterns == ["latest"] && r.policies[0].keepTags[1].mostRecentlyPushedCount == nil)
        #expect(r.policies[1].keepTags.isEmpty && !r.policies[1].deleteUntagged && r.policies[1].untaggedDelay == 86_400)
        #expect(RegistryConfiguration.defaults.berth.retention.policies.isEmpty)
        for (bad, key) in [
            ("policies:\n  - deleteuntagged: true\n", "berth.retention.policies[0].repositories"),
            ("policies:\n  - repositories: [a]\n    keeptags:\n      - mostrecentlypushedcount: -1\n",
             "berth.retention.policies[0].keeptags[0].mostrecentlypushedcount"),
            ("policies:\n  - repositories: [a]\n    keeptags:\n      - newest: 3\n", "berth.retention.policies[0].keeptags[0].newest"),
            ("policies: all\n", "berth.retention.policies"),
            ("delay: 1h\n", "berth.retention.delay"),
        ] {
            let text = "version: 0.1\nberth:\n  retention:\n" + bad.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") + "\n"
            #expect { try RegistryConfiguration.parse(yaml: text, environment: [:]) } throws: { error in "\(error)".contains(key) }
        }
    }

    @Test func webPageSwitch() throws {
        #expect(RegistryConfiguration.defaults.berth.ui.enabled)
        let off = try RegistryConfiguration.parse(yaml: "version: 0.1\nberth:\n  ui:\n    enabled: false\n", environment: [:])
        #expect(!off.berth.ui.enabled)
        let env = try RegistryConfiguration.parse(yaml: "version: 0.1\n", environment: ["REGISTRY_BERTH_UI_ENABLED": "false"])
        #expect(!env.berth.ui.enabled)
        #expect { try RegistryConfiguration.parse(yaml: "version: 0.1\nberth:\n  ui:\n    theme: dark\n", environment: [:]) }
            throws: { error in "\(error)".contains("berth.ui.theme") }
        #expect { try RegistryConfiguration.parse(yaml: "version: 0.1\nberth:\n  ui:\n    enabled: sometimes\n", environment: [:]) }
            throws: { error in "\(error)".contains("berth.ui.enabled") }
    }

    @Test func tagHistoryPolicy() throws {
        let yaml = "version: 0.1\nberth:\n  tags:\n    history:\n      maxentries: 50\n      maxage: 720h\n      protect: 168h\n"
        let history = try RegistryConfiguration.parse(yaml: yaml, environment: [:]).berth.tags.history
        #expect(history.maxEntries == 50 && history.maxAge == 720 * 3600 && history.protect == 168 * 3600)
        let env = try RegistryConfiguration.parse(yaml: "version: 0.1\n", environment: ["REGISTRY_BERTH_TAGS_HISTORY_PROTECT": "1h"])
        #expect(env.berth.tags.history.protect == 3600)
        let defaults = RegistryConfiguration.defaults.berth.tags.history
        #expect(defaults.maxEntries == nil && defaults.maxAge == nil && defaults.protect == 0)
        for (bad, key) in [
            ("maxentries: 0", "berth.tags.history.maxentries"), ("maxage: -1h", "berth.tags.history.maxage"),
            ("protect: soon", "berth.tags.history.protect"), ("keep: 3", "berth.tags.history.keep"),
        ] {
            #expect { try RegistryConfiguration.parse(yaml: "version: 0.1\nberth:\n  tags:\n    history:\n      \(bad)\n", environment: [:]) }
                throws: { error in "\(error)".contains(key) }
        }
    }

    @Test func immutableTagRules() throws {
        let yaml = """
            version: 0.1
            berth:
              tags:
                immutable:
                  - repository: "team/**"
                    tags: ["v*", "release-?"]
                  - repository: base
                    tags: [stable]
            """
        let rules = try RegistryConfiguration.parse(yaml: yaml, environment: [:]).berth.tags.immutable
        #expect(rules == [.init(repository: "team/**", tags: ["v*", "release-?"]), .init(repository: "base", tags: ["stable"])])
        #expect(RegistryConfiguration.defaults.berth.tags.immutable.isEmpty)
        for (bad, key) in [
            ("berth:\n  tags:\n    immutable:\n      - tags: [v1]\n", "berth.tags.immutable[0].repository"),
            ("berth:\n  tags:\n    immutable:\n      - repository: a\n", "berth.tags.immutable[0].tags"),
            ("berth:\n  tags:\n    immutable:\n      - repository: a\n        tags: [v1]\n        mode: strict\n",
             "berth.tags.immutable[0].mode"),
            ("berth:\n  tags:\n    immutable: v1\n", "berth.tags.immutable"),
        ] {
            #expect { try RegistryConfiguration.parse(yaml: "version: 0.1\n" + bad, environment: [:]) } throws: { error in
                "\(error)".contains(key)
            }
        }
    }

    /// The soak tests run the online collector every few hundred milliseconds.
    @Test func subSecondGCInterval() throws {
        let yaml = "version: 0.1\nberth:\n  gc:\n    interval: 500ms\n    graceperiod: 3s\n"
        #expect(try RegistryConfiguration.parse(yaml: yaml, environment: [:]).berth.gc.interval == 0.5)
        let fromEnv = try RegistryConfiguration.load(path: nil, environment: ["REGISTRY_BERTH_GC_INTERVAL": "250ms"]).berth.gc
        #expect(fromEnv.interval == 0.25)
        // A bare integer is nanoseconds, as in distribution.
        let bare = try RegistryConfiguration.load(path: nil, environment: ["REGISTRY_BERTH_GC_INTERVAL": "200000000"]).berth.gc
        #expect(bare.interval == 0.2)
    }

    @Test func fromEnvironment() throws {
        let berth = try RegistryConfiguration.load(path: nil, environment: [
            "REGISTRY_BERTH_GC_DELETEUNTAGGED": "true",
            "REGISTRY_BERTH_GC_GRACEPERIOD": "1h",
            "REGISTRY_BERTH_SMALLBLOBTHRESHOLD": "4096",
        ]).berth
        #expect(berth.gc.deleteUntagged)
        #expect(berth.gc.gracePeriod == 3_600)
        #expect(berth.smallBlobThreshold == 4_096)
    }

    @Test func connectionLimits() throws {
        let defaults = RegistryConfiguration.defaults.berth.limits
        #expect(defaults.maxHeaderBytes == 65_536)
        #expect(defaults.idleTimeout == 120)
        let limits = try RegistryConfiguration.parse(yaml: """
            version: 0.1
            berth:
              limits:
                maxheaderbytes: 16384
                maxrequestline: 2048
                idletimeout: 30s
                headertimeout: 5s
                bodystalltimeout: 20s
                tlsreloadinterval: 0s
            """, environment: [:]).berth.limits
        #expect(limits.maxHeaderBytes == 16_384)
        #expect(limits.maxRequestLine == 2_048)
        #expect(limits.idleTimeout == 30)
        #expect(limits.headerTimeout == 5)
        #expect(limits.bodyStallTimeout == 20)
        #expect(limits.tlsReloadInterval == 0)
    }

    @Test func negativeValuesFail() {
        #expect(expectFailure(yaml: "version: 0.1\nberth:\n  gc:\n    graceperiod: -1h\n")?.keyPath == "berth.gc.graceperiod")
        #expect(expectFailure(yaml: "version: 0.1\nberth:\n  limits:\n    manifestmaxsize: 0\n")?.keyPath
            == "berth.limits.manifestmaxsize")
    }
}
