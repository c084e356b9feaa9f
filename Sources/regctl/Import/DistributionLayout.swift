// Reads distribution's filesystem storage layout (registry/storage/paths.go)
// without changing anything in it:
//
//   <root>/docker/registry/v2/blobs/<alg>/<first two hex>/<hex>/data
//   <root>/docker/registry/v2/repositories/<name>/
//       _layers/<alg>/<hex>/link                      blobs linked into <name>
//       _manifests/revisions/<alg>/<hex>/link         every manifest of <name>
//       _manifests/tags/<tag>/current/link            where <tag> points
//       _manifests/tags/<tag>/index/<alg>/<hex>/link  every digest <tag> named
//       _uploads/                                     unfinished uploads (ignored)
//
// A `link` holds a digest string (`sha256:<hex>`). A repository name has one
// or more path components; a directory is a repository when it holds
// `_layers`, `_manifests` or `_uploads`, and names nest (`a` and `a/b` may
// both be repositories). Distribution never reads `_`-prefixed directories as
// name components, so neither does this walk.

import CASEngine
import Foundation

struct DistributionLayout {
    /// A `link` file and what it names (nil when the file is unreadable or
    /// holds no digest Berth stores: `problem` says which).
    struct Link: Equatable {
        let path: String
        let digest: BlobDigest?
        let problem: String?
    }

    struct Tag: Equatable {
        let name: String
        /// `current/link`; nil when the tag directory has none.
        let current: Link?
        /// Entries of `index/` (every digest the tag ever named, current included).
        let history: [Link]
    }

    struct Repository: Equatable {
        let name: String
        let layers: [Link]
        let revisions: [Link]
        let tags: [Tag]
    }

    /// `<root>/docker/registry/v2`.
    let v2: String
    let repositories: [Repository]

    /// Where distribution keeps a blob's bytes.
    func blobPath(_ d: BlobDigest) -> String {
        let hex = d.hex
        return "\(v2)/blobs/\(d.algorithm.name)/\(hex.prefix(2))/\(hex)/data"
    }

    /// Accepts the configured `rootdirectory` or its `docker/registry/v2` itself.
    static func read(root: String) throws -> DistributionLayout {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        let candidates = ["\(root)/docker/registry/v2", root]
        guard let v2 = candidates.first(where: {
            fm.fileExists(atPath: "\($0)/repositories", isDirectory: &isDirectory) && isDirectory.boolValue
        }) else {
            throw RegctlError("\(root) is not a distribution storage root (no docker/registry/v2/repositories)")
        }
        var repositories: [Repository] = []
        try walk("\(v2)/repositories", name: [], into: &repositories)
        return DistributionLayout(v2: v2, repositories: repositories.sorted { $0.name < $1.name })
    }

    private static func walk(_ directory: String, name: [String], into out: inout [Repository]) throws {
        let entries = try children(directory)
        if !name.isEmpty, entries.contains(where: { ["_layers", "_manifests", "_uploads"].contains($0) }) {
            let repo = name.joined(separator: "/")
            out.append(Repository(
                name: repo,
                layers: try digestLinks("\(directory)/_layers"),
                revisions: try digestLinks("\(directory)/_manifests/revisions"),
                tags: try tags("\(directory)/_manifests/tags")))
        }
        for entry in entries where !entry.hasPrefix("_") && isDirectory("\(directory)/\(entry)") {
            try walk("\(directory)/\(entry)", name: name + [entry], into: &out)
        }
    }

    /// `<dir>/<alg>/<hex>/link` for every algorithm and digest directory.
    private static func digestLinks(_ directory: String) throws -> [Link] {
        var links: [Link] = []
        for algorithm in try children(directory) where isDirectory("\(directory)/\(algorithm)") {
            for hex in try children("\(directory)/\(algorithm)") {
                let path = "\(directory)/\(algorithm)/\(hex)/link"
                // A digest directory without a link: a deleted link, as
                // distribution leaves it after deleting a layer or revision.
                guard FileManager.default.fileExists(atPath: path) else { continue }
                links.append(readLink(path, expected: "\(algorithm):\(hex)"))
            }
        }
        return links.sorted { $0.path < $1.path }
    }

    private static func tags(_ directory: String) throws -> [Tag] {
        try children(directory).filter { isDirectory("\(directory)/\($0)") }.map { name in
            let current = "\(directory)/\(name)/current/link"
            return Tag(name: name,
                       current: FileManager.default.fileExists(atPath: current) ? readLink(current, expected: nil) : nil,
                       history: try digestLinks("\(directory)/\(name)/index"))
        }
    }

    /// Distribution reads a link's content as the digest; the directory name
    /// must agree where it also names one.
    static func readLink(_ path: String, expected: String?) -> Link {
        guard let data = FileManager.default.contents(atPath: path) else {
            return Link(path: path, digest: nil, problem: "unreadable link file")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let digest = BlobDigest(text) else {
            return Link(path: path, digest: nil, problem: "link holds \"\(text.prefix(80))\", not a sha256/sha512 digest")
        }
        if let expected, expected != digest.description {
            return Link(path: path, digest: nil, problem: "link holds \(digest) in the directory of \(expected)")
        }
        return Link(path: path, digest: digest, problem: nil)
    }

    private static func children(_ directory: String) throws -> [String] {
        guard isDirectory(directory) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    private static func isDirectory(_ path: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &d) && d.boolValue
    }
}
