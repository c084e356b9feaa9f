// The one exhaustive mapping from engine errors, parser errors and anything
// else to OCI error codes and HTTP statuses. Adding a case to `StoreError.Code`
// or `OCIParseError.Code` fails the build here, on purpose.

import CASEngine
import NIOHTTP1
import OCIModel

extension RegistryError {
    /// Maps any thrown error. Unknown errors become `internalError` (500); the
    /// connection logs them. Never a 404.
    public static func from(_ error: any Error) -> RegistryError {
        switch error {
        case let e as RegistryError: return e
        case let e as StoreError: return from(e, during: .other)
        case let e as OCIParseError: return from(e)
        default: return RegistryError(.internalError)
        }
    }

    /// What the engine was doing, for codes whose meaning depends on it.
    public enum StoreOperation: Sendable {
        case startUpload
        case writeUpload
        case other
    }

    public static func from(_ error: StoreError, during operation: StoreOperation = .other) -> RegistryError {
        switch error.code {
        case .blobUnknown: return RegistryError(.blobUnknown, detail: error.message)
        case .manifestUnknown: return RegistryError(.manifestUnknown, detail: error.message)
        case .tagUnknown: return RegistryError(.manifestUnknown, detail: error.message)
        case .repositoryUnknown: return RegistryError(.nameUnknown, detail: error.message)
        case .uploadUnknown: return RegistryError(.blobUploadUnknown, detail: error.message)
        case .digestMismatch: return RegistryError(.digestInvalid, detail: error.message)
        case .sizeMismatch: return RegistryError(.sizeInvalid, detail: error.message)
        case .outOfOrder: return RegistryError(.rangeInvalid, "Range not satisfiable", detail: error.message)
        case .referenceUnknown: return RegistryError(.manifestBlobUnknown, detail: error.message)
        case .limitExceeded:
            switch operation {
            case .startUpload:
                return RegistryError(.tooManyRequests, "too many upload sessions", detail: error.message)
            case .writeUpload:
                return RegistryError(.sizeInvalid, "upload exceeds the maximum blob size", status: .payloadTooLarge,
                                     detail: error.message)
            case .other:
                // e.g. the metadata map is full: the operator's problem, logged as a 500.
                return RegistryError(.internalError)
            }
        case .readOnly: return .readOnlyMode
        case .closed: return RegistryError(.unavailable, detail: "store closed")
        case .conflict: return RegistryError(.tagConflict, detail: error.message)
        case .immutable: return RegistryError(.tagImmutable, error.message, detail: error.message)
        // Contract violations and engine failures are ours, not the client's.
        case .invalidArgument, .corrupt, .locked, .unsupportedFormat, .io, .metadata:
            return RegistryError(.internalError)
        }
    }

    public static func from(_ error: OCIParseError) -> RegistryError {
        switch error.code {
        case .digestInvalid: return RegistryError(.digestInvalid, "invalid digest", detail: error.message)
        // distribution answers unsupported algorithms with DIGEST_INVALID too.
        case .digestUnsupported: return RegistryError(.digestInvalid, "unsupported digest algorithm", detail: error.message)
        case .nameInvalid: return RegistryError(.nameInvalid, detail: error.message)
        case .tagInvalid: return RegistryError(.manifestInvalid, "invalid tag", detail: error.message)
        case .referenceInvalid: return RegistryError(.manifestInvalid, "invalid reference", detail: error.message)
        case .manifestInvalid: return RegistryError(.manifestInvalid, detail: error.message)
        case .manifestUnsupported:
            return RegistryError(.manifestInvalid, "manifest type unsupported", detail: error.message)
        case .rangeInvalid: return RegistryError(.rangeInvalid, "Range not satisfiable", detail: error.message)
        }
    }

    static let readOnlyMode = RegistryError(.unsupported, "registry is in read-only mode")
    static let deleteDisabled = RegistryError(.unsupported, "deletes are disabled on this registry")
    static let manifestTooLarge = RegistryError(.manifestInvalid, "manifest too large", status: .payloadTooLarge)
}
