// regctl's bool flags in distribution's (pflag's) grammar, through the built
// binary: `--flag`, `--flag=<strconv.ParseBool value>`, `-d`, `-d=false`,
// clusters like `-dm`, last one wins, `--flag false` leaves `false` as an
// argument, and a value ParseBool refuses is a usage error (exit 64) with
// pflag's message. The seed's own `garbage-collect --delete-untagged=true`
// once exited 64 with "does not take any value".

import Foundation
import Testing
@testable import CASEngine

@Suite("regctl flags in pflag's grammar", .serialized)
struct PflagGrammarTests {
    typealias Images = GarbageCollectCommandTests.Images
    static let untaggedSummary = "5 blobs marked, 4 blobs and 1 manifests eligible for deletion"
    static let plainSummary = "8 blobs marked, 1 blobs and 0 manifests eligible for deletion"

    func fixture() throws -> (StoreFixture, Images) {
        let f = try StoreFixture()
        return (f, try GarbageCollectCommandTests().populate(f))
    }

    func expectUntouched(_ f: StoreFixture, _ i: Images) throws {
        try f.with { (s: Store) throws in
            for d in [i.old, i.c1, i.l1, i.stray] { #expect(try s.stat(d) != nil, "a dry run deleted \(d)") }
        }
    }

    @Test func seedCommandDeleteUntaggedEqualsTrue() throws {
        let (f, i) = try fixture()
        let r = try Regctl.run(["garbage-collect", "--delete-untagged=true", f.config])
        #expect(r.status == 0, "\(r)")
        #expect(r.lines.contains(Self.untaggedSummary), "\(r)")
        try f.with { (s: Store) throws in
            for d in [i.old, i.c1, i.l1, i.stray] { #expect(try s.stat(d) == nil, "\(d) survived") }
            #expect(try s.resolve(repository: "app", tag: "latest") == i.new)
        }
    }

    @Test(arguments: ["1", "t", "T", "true", "TRUE", "True"])
    func everyParseBoolTrue(_ value: String) throws {
        let (f, i) = try fixture()
        let r = try Regctl.run(["garbage-collect", "--dry-run=\(value)", "--delete-untagged=\(value)", f.config])
        #expect(r.status == 0 && r.lines.contains(Self.untaggedSummary), "\(value)\n\(r)")
        try expectUntouched(f, i)
    }

    @Test(arguments: ["0", "f", "F", "false", "FALSE", "False"])
    func everyParseBoolFalse(_ value: String) throws {
        let (f, i) = try fixture()
        let r = try Regctl.run(["garbage-collect", "-d", "--delete-untagged=\(value)", "--quiet=\(value)", f.config])
        #expect(r.status == 0 && r.lines.contains(Self.plainSummary), "\(value)\n\(r)")
        #expect(r.lines.contains("app: marking manifest \(i.old) "), "--quiet=\(value) is not quiet\n\(r)")
        try expectUntouched(f, i)
    }

    @Test func dryRunEqualsFalseCollects() throws {
        let (f, i) = try fixture()
        let r = try Regctl.run(["garbage-collect", "--dry-run=false", "-m", f.config])
        #expect(r.status == 0 && r.lines.contains(Self.untaggedSummary), "\(r)")
        try f.with { (s: Store) throws in #expect(try s.stat(i.l1) == nil, "--dry-run=false was a dry run") }
    }

    @Test func shorthandsWithValuesAndClusters() throws {
        let (f, i) = try fixture()
        for args in [["-dm"], ["-md"], ["-d=true", "-m=1"], ["-dm=T"], ["-d", "-m", "-q=false"]] {
            let r = try Regctl.run(["garbage-collect"] + args + [f.config])
            #expect(r.status == 0 && r.lines.contains(Self.untaggedSummary), "\(args)\n\(r)")
        }
        let quiet = try Regctl.run(["garbage-collect", "-dmq", f.config])
        #expect(quiet.status == 0 && quiet.stdout.isEmpty, "\(quiet)")
        let plain = try Regctl.run(["garbage-collect", "-d", "-m=false", f.config])
        #expect(plain.status == 0 && plain.lines.contains(Self.plainSummary), "\(plain)")
        try expectUntouched(f, i)
    }

    @Test func lastOccurrenceWins() throws {
        let (f, i) = try fixture()
        let off = try Regctl.run(["garbage-collect", "-d", "--delete-untagged", "-m=false", f.config])
        #expect(off.status == 0 && off.lines.contains(Self.plainSummary), "\(off)")
        let on = try Regctl.run(["garbage-collect", "-d", "--delete-untagged=false", f.config, "-m"])
        #expect(on.status == 0 && on.lines.contains(Self.untaggedSummary), "flags after the argument count too\n\(on)")
        try expectUntouched(f, i)
    }

    @Test func spaceSeparatedFalseIsAnArgument() throws {
        let (f, i) = try fixture()
        // pflag never gives a bool the next argument: `false` is the config
        // path, and config.yml an extra argument.
        let r = try Regctl.run(["garbage-collect", "--dry-run", "false", f.config])
        #expect(r.status == 64 && r.stderr.contains("Unexpected argument"), "\(r)")
        let alone = try Regctl.run(["garbage-collect", "--dry-run=true", "false"])
        #expect(alone.status == 1 && alone.stderr.contains("Error: configuration: cannot read configuration file false"), "\(alone)")
        try expectUntouched(f, i)
    }

    @Test func invalidValuesFailWithPflagsMessage() throws {
        let (f, i) = try fixture()
        let cases: [([String], String)] = [
            (["--dry-run=maybe"], #"invalid argument "maybe" for "-d, --dry-run" flag: strconv.ParseBool: parsing "maybe": invalid syntax"#),
            (["--delete-untagged="], #"invalid argument "" for "-m, --delete-untagged" flag: strconv.ParseBool: parsing "": invalid syntax"#),
            (["-d", "-q=yes"], #"invalid argument "yes" for "-q, --quiet" flag: strconv.ParseBool: parsing "yes": invalid syntax"#),
        ]
        for (args, message) in cases {
            let r = try Regctl.run(["garbage-collect"] + args + [f.config])
            #expect(r.status == 64, "usage error (EX_USAGE)\n\(r)")
            #expect(r.stdout.isEmpty, "\(r)")
            #expect(r.stderr.hasPrefix("Error: \(message)\nUsage: regctl garbage-collect "), "\(args)\n\(r)")
        }
        let fsck = try Regctl.run(["fsck", "--repair=sure", f.config])
        #expect(fsck.status == 64 && fsck.stderr.hasPrefix(
            #"Error: invalid argument "sure" for "--repair" flag: strconv.ParseBool: parsing "sure": invalid syntax"#), "\(fsck)")
        try expectUntouched(f, i)
    }

    @Test func fsckFlagsTakeValues() throws {
        let (f, _) = try fixture()
        let r = try Regctl.run(["fsck", "--verify-content=true", "--scan-packs=1", "--repair=false", "--reindex=F", f.config])
        #expect(r.status == 0 && r.lines.last == "fsck: clean", "\(r)")
    }
}
