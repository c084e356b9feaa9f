import CASEngine
import Foundation
import OCIModel
import Testing
@testable import RegistryHTTP

@Suite("Error mapping")
struct ErrorMappingTests {
    @Test func storeErrors() {
        let cases: [(StoreError.Code, String, UInt)] = [
            (.blobUnknown, "BLOB_UNKNOWN", 404), (.manifestUnknown, "MANIFEST_UNKNOWN", 404),
            (.tagUnknown, "MANIFEST_UNKNOWN", 404), (.repositoryUnknown, "NAME_UNKNOWN", 404),
            (.uploadUnknown, "BLOB_UPLOAD_UNKNOWN", 404), (.digestMismatch, "DIGEST_INVALID", 400),
            (.sizeMismatch, "SIZE_INVALID", 400), (.outOfOrder, "RANGE_INVALID", 416),
            (.referenceUnknown, "MANIFEST_BLOB_UNKNOWN", 400), (.readOnly, "UNSUPPORTED", 405),
            (.limitExceeded, "INTERNAL_ERROR", 500), (.closed, "UNAVAILABLE", 503),
            (.io, "INTERNAL_ERROR", 500), (.corrupt, "INTERNAL_ERROR", 500),
            (.metadata, "INTERNAL_ERROR", 500), (.invalidArgument, "INTERNAL_ERROR", 500),
        ]
        for (code, oci, status) in cases {
            let e = RegistryError.from(StoreError(code, "x"))
            #expect(e.code.rawValue == oci, "\(code)")
            #expect(e.status.code == status, "\(code)")
        }
    }

    @Test func limitsDependOnTheOperation() {
        let e = StoreError(.limitExceeded, "x")
        #expect(RegistryError.from(e, during: .startUpload).status == .tooManyRequests)
        #expect(RegistryError.from(e, during: .startUpload).code == .tooManyRequests)
        #expect(RegistryError.from(e, during: .writeUpload).status == .payloadTooLarge)
        #expect(RegistryError.from(e, during: .writeUpload).code == .sizeInvalid)
    }

    @Test func parseErrors() {
        let cases: [(OCIParseError.Code, String, UInt)] = [
            (.digestInvalid, "DIGEST_INVALID", 400), (.digestUnsupported, "DIGEST_INVALID", 400),
            (.nameInvalid, "NAME_INVALID", 400), (.tagInvalid, "MANIFEST_INVALID", 400),
            (.referenceInvalid, "MANIFEST_INVALID", 400), (.manifestInvalid, "MANIFEST_INVALID", 400),
            (.manifestUnsupported, "MANIFEST_INVALID", 400), (.rangeInvalid, "RANGE_INVALID", 416),
        ]
        for (code, oci, status) in cases {
            let e = RegistryError.from(OCIParseError(code, "x"))
            #expect(e.code.rawValue == oci, "\(code)")
            #expect(e.status.code == status, "\(code)")
        }
    }

    @Test func unknownErrorsAre500() {
        struct Weird: Error {}
        let e = RegistryError.from(Weird())
        #expect(e.status == .internalServerError)
        #expect(e.code == .internalError)
    }

    @Test func defaultStatuses() {
        #expect(RegistryError(.unauthorized).status.code == 401)
        #expect(RegistryError(.denied).status.code == 403)
        #expect(RegistryError(.tooManyRequests).status.code == 429)
        #expect(RegistryError(.unsupported).status.code == 405)
        #expect(RegistryError(.rangeInvalid).message == "invalid content range")
    }

    @Test func jsonShape() throws {
        let e = RegistryError(.blobUnknown, "blob \"x\"\n", detail: "sha256:1")
        let obj = try JSONSerialization.jsonObject(with: Data(e.jsonBody)) as! [String: Any]
        let first = (obj["errors"] as! [[String: Any]])[0]
        #expect(first["code"] as? String == "BLOB_UNKNOWN")
        #expect(first["message"] as? String == "blob \"x\"\n")
        #expect(first["detail"] as? String == "sha256:1")
    }

    @Test func etags() {
        #expect(RegistryHandler.etagMatches("\"sha256:1\"", digest: "sha256:1"))
        #expect(RegistryHandler.etagMatches("W/\"x\", \"sha256:1\"", digest: "sha256:1"))
        #expect(RegistryHandler.etagMatches("*", digest: "sha256:1"))
        #expect(!RegistryHandler.etagMatches("\"sha256:2\"", digest: "sha256:1"))
    }
}
