// `regctl ls [REPO] [--json]` against a running Berth: the repositories, or
// a repository's tags with digest, size (manifest, config and layers; an
// index counts each child), platforms and when the tag was last pushed
// (its history's newest entry) and pulled by tag (null: never). Listing
// does not count as pulling: it reads manifests by digest.

import ArgumentParser
import Foundation

struct Listing: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List repositories, or a repository's tags with digest, size, platforms and push time (a running Berth).")
    @Argument(help: "Repository (default: list repositories).")
    var repository: String?
    @OptionGroup var connection: ServerConnection

    static let manifestTypes = [
        "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json",
    ].joined(separator: ",")

    func run() throws {
        let client = try connection.client()
        guard let repository else {
            let repos = try Self.pages(client, "/v2/_catalog?n=1000", key: "repositories")
            if connection.json {
                print(String(decoding: try JSONSerialization.data(withJSONObject: ["repositories": repos]), as: UTF8.self))
            } else {
                repos.forEach { print($0) }
            }
            return
        }
        var rows: [[String: Any]] = []
        for tag in try Self.tags(client, repository) {
            let history = try client.send(.GET, "/v2/\(repository)/_berth/tags/\(tag)/history?n=1")
            let answer = (try? JSONSerialization.jsonObject(with: Data(history.body))) as? [String: Any]
            let newest = (answer?["history"] as? [[String: Any]])?.first
            // The tag's digest from its history, then the manifest by digest:
            // listing is not a pull of the tag.
            let current = newest.flatMap { $0["action"] as? String != "delete" ? $0["digest"] as? String : nil }
            guard let (digest, manifest) = try Self.manifest(client, repository, current ?? tag) else { continue }
            let (size, platforms) = try Self.describe(client, repository, manifest)
            rows.append(["tag": tag, "digest": digest, "mediaType": manifest.mediaType, "size": size, "platforms": platforms,
                         "pushed": newest?["at"] ?? NSNull(), "pulled": answer?["pulled"] ?? NSNull()])
        }
        if connection.json {
            let data = try JSONSerialization.data(withJSONObject: ["repository": repository, "tags": rows], options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let width = max(3, rows.map { ($0["tag"] as! String).count }.max() ?? 0)
        print("TAG".padding(toLength: width, withPad: " ", startingAt: 0) + "  DIGEST" + String(repeating: " ", count: 17)
              + "        SIZE  PUSHED                PLATFORMS")
        for row in rows {
            let digest = (row["digest"] as! String).prefix(23)
            print((row["tag"] as! String).padding(toLength: width, withPad: " ", startingAt: 0) + "  " + digest
                  + "  " + ByteCount.column(row["size"]) + "  "
                  + ((row["pushed"] as? String) ?? "-").padding(toLength: 20, withPad: " ", startingAt: 0) + "  "
                  + (row["platforms"] as! [String]).joined(separator: ","))
        }
    }

    struct Manifest {
        let mediaType: String
        let bytes: [UInt8]
        var object: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]) ?? [:] }
    }

    /// Every tag of the repository, following the `Link` pages.
    static func tags(_ client: RegistryClient, _ repository: String) throws -> [String] {
        try pages(client, "/v2/\(repository)/tags/list?n=1000", key: "tags")
    }

    static func pages(_ client: RegistryClient, _ first: String, key: String) throws -> [String] {
        var out: [String] = []
        var path: String? = first
        while let p = path {
            let r = try client.send(.GET, p)
            try ServerConnection.finish(r, json: false) { object in out += object[key] as? [String] ?? [] }
            path = RegistryClient.nextLink(r)
        }
        return out
    }

    static func manifest(_ client: RegistryClient, _ repository: String, _ reference: String) throws -> (String, Manifest)? {
        let r = try client.send(.GET, "/v2/\(repository)/manifests/\(reference)", headers: [("Accept", manifestTypes)])
        guard r.status == 200, let digest = r.headers.first(name: "Docker-Content-Digest") else { return nil }
        return (digest, Manifest(mediaType: r.headers.first(name: "Content-Type") ?? "", bytes: r.body))
    }

    /// Total bytes (manifest, config, layers; an index adds its children's)
    /// and platforms (`os/architecture[/variant]`).
    static func describe(_ client: RegistryClient, _ repository: String, _ m: Manifest) throws -> (UInt64, [String]) {
        let object = m.object
        var size = UInt64(m.bytes.count)
        if let children = object["manifests"] as? [[String: Any]] {
            var platforms: [String] = []
            for child in children {
                if let p = child["platform"] as? [String: Any] { platforms.append(platform(p)) }
                guard let d = child["digest"] as? String, let (_, c) = try manifest(client, repository, d) else { continue }
                size += try describe(client, repository, c).0
            }
            return (size, platforms)
        }
        var platforms: [String] = []
        if let config = object["config"] as? [String: Any] {
            size += (config["size"] as? NSNumber)?.uint64Value ?? 0
            if let d = config["digest"] as? String, (config["mediaType"] as? String)?.hasSuffix("config.v1+json") == true
                || (config["mediaType"] as? String) == "application/vnd.docker.container.image.v1+json" {
                let r = try client.send(.GET, "/v2/\(repository)/blobs/\(d)")
                if r.status == 200, let c = (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any], c["os"] != nil {
                    platforms.append(platform(c))
                }
            }
        }
        for layer in object["layers"] as? [[String: Any]] ?? [] { size += (layer["size"] as? NSNumber)?.uint64Value ?? 0 }
        return (size, platforms)
    }

    static func platform(_ p: [String: Any]) -> String {
        [p["os"], p["architecture"], p["variant"]].compactMap { $0 as? String }.joined(separator: "/")
    }
}
