// Every input kept in Fuzz/Corpus/<target>/ (hand-written seeds, the
// minimised grown corpus, and every crasher as regression-*) replayed through
// the same entry point its libFuzzer harness calls, as a normal test: an
// invariant violation (or a trap) fails the suite without a fuzzing build.

@_spi(Fuzzing) import CASEngine
import Foundation
@_spi(Fuzzing) import OCIModel
@_spi(Fuzzing) import RegistryConfig
@_spi(Fuzzing) import RegistryHTTP
import Testing

@Suite("Fuzz corpus replay")
struct FuzzReplayTests {
    /// Harness name (Fuzz/Sources/<name>) -> what its LLVMFuzzerTestOneInput runs.
    static let entryPoints: [String: @Sendable ([UInt8]) throws -> Void] = [
        "FuzzManifest": OCIModel.FuzzEntryPoints.manifest,
        "FuzzIndex": OCIModel.FuzzEntryPoints.index,
        "FuzzDescriptor": OCIModel.FuzzEntryPoints.descriptor,
        "FuzzDigest": OCIModel.FuzzEntryPoints.digest,
        "FuzzRepositoryName": OCIModel.FuzzEntryPoints.repositoryName,
        "FuzzReference": OCIModel.FuzzEntryPoints.reference,
        "FuzzContentRange": OCIModel.FuzzEntryPoints.contentRange,
        "FuzzByteRange": OCIModel.FuzzEntryPoints.byteRange,
        "FuzzAcceptHeader": OCIModel.FuzzEntryPoints.acceptHeader,
        "FuzzPackRecordHeader": { bytes in
            for seal in [false, true] { try engine { try CASEngine.FuzzEntryPoints.packRecordHeader(bytes, sealCRC: seal) } }
        },
        "FuzzPackFileHeader": { bytes in
            for seal in [false, true] { try engine { try CASEngine.FuzzEntryPoints.packFileHeader(bytes, sealCRC: seal) } }
        },
        "FuzzLMDBRecords": { bytes in try engine { try CASEngine.FuzzEntryPoints.lmdbRecord(bytes) } },
        "FuzzLZ4": { bytes in try engine { try CASEngine.FuzzEntryPoints.lz4Block(bytes) } },
        "FuzzRouter": RegistryHTTP.FuzzEntryPoints.router,
        "FuzzQuery": RegistryHTTP.FuzzEntryPoints.query,
        "FuzzAuthHeader": RegistryHTTP.FuzzEntryPoints.authorizationHeader,
        "FuzzJWT": RegistryHTTP.FuzzEntryPoints.jwt,
        "FuzzHtpasswd": RegistryHTTP.FuzzEntryPoints.htpasswd,
        "FuzzHTTPFraming": RegistryHTTP.FuzzEntryPoints.httpFraming,
        "FuzzConfig": RegistryConfig.FuzzEntryPoints.config,
    ]

    /// The engine's decoders throw `StoreError` on rejected input (their
    /// harnesses ignore it); only an invariant violation is a failure.
    static func engine(_ body: () throws -> Void) throws {
        do { try body() } catch let v as CASEngine.FuzzInvariantViolation { throw v } catch {}
    }

    static let fuzzDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func contents(_ dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    static var harnesses: [String] { contents(fuzzDirectory.appendingPathComponent("Sources")) }

    @Test func everyHarnessHasAnEntryPointAndACorpus() {
        #expect(!Self.harnesses.isEmpty, "no harnesses under \(Self.fuzzDirectory.path)/Sources")
        for h in Self.harnesses {
            #expect(Self.entryPoints[h] != nil, "\(h) has no entry point in FuzzReplayTests.entryPoints")
            #expect(!Self.contents(Self.fuzzDirectory.appendingPathComponent("Corpus/\(h)")).isEmpty, "Fuzz/Corpus/\(h) is empty")
        }
        #expect(Set(Self.entryPoints.keys) == Set(Self.harnesses), "entry points for harnesses that do not exist")
        // run.sh takes its target list from Fuzz/Sources, so a new harness is fuzzed in the smoke too.
        let script = (try? String(contentsOf: Self.fuzzDirectory.appendingPathComponent("run.sh"), encoding: .utf8)) ?? ""
        #expect(script.contains("ls Sources"), "run.sh no longer lists the harnesses from Fuzz/Sources")
    }

    @Test(arguments: FuzzReplayTests.harnesses)
    func corpusReplays(_ harness: String) throws {
        let entry = try #require(Self.entryPoints[harness], "no entry point for \(harness)")
        let dir = Self.fuzzDirectory.appendingPathComponent("Corpus/\(harness)")
        let files = Self.contents(dir)
        for name in files {
            let bytes = try [UInt8](Data(contentsOf: dir.appendingPathComponent(name)))
            do {
                try entry(bytes)
            } catch {
                Issue.record("Fuzz/Corpus/\(harness)/\(name): \(error)")
            }
        }
        print("\(harness): replayed \(files.count) inputs")
    }
}
