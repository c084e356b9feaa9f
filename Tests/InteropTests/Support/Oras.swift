import Foundation

/// The oras Python client (oras-py on PyPI), driven by short scripts run with
/// `python3 -c` so the test target holds only Swift files. Each script writes
/// its result as JSON to the file named by its first argument.
enum Oras {
    /// Fails, naming the package, unless `python3 -c 'import oras'` works.
    static func requireClient() throws {
        _ = try Command.require("python3", package: "python3")
        let probe = try Command.run("python3", ["-c", "import oras.provider"])
        guard probe.succeeded else {
            throw InteropError(
                "the Python oras client is not importable by python3: install it with "
                    + "`python3 -m pip install oras` (`make test-deps` does)\n\(probe.stderr)")
        }
    }

    /// Runs `script` with `arguments` in `directory`; returns the JSON it wrote.
    static func run(_ script: String, _ arguments: [String], in directory: URL) throws -> [String: Any] {
        try requireClient()
        let resultFile = directory.appendingPathComponent("result-\(UUID().uuidString).json")
        try Command.check("python3", ["-c", script, resultFile.path] + arguments, directory: directory)
        let data = try Data(contentsOf: resultFile)
        try? FileManager.default.removeItem(at: resultFile)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw InteropError("oras script wrote no JSON object")
        }
        return object
    }

    /// argv: result, target, file:mediaType, config-file:config-mediaType,
    /// annotation JSON, chunk size (0: monolithic uploads, else chunked PATCHes
    /// of that many bytes), [subject mediaType, subject digest, subject size].
    /// Pushes with oras' own `push`; the subject, when given, makes the
    /// manifest a referrer.
    static let pushScript = #"""
        import json, sys
        import oras.oci, oras.provider
        result, target, file_ref, config_ref, annotations, chunk = sys.argv[1:7]
        subject = None
        if len(sys.argv) > 7:
            subject = oras.oci.Subject(mediaType=sys.argv[7], digest=sys.argv[8], size=int(sys.argv[9]))
        registry = oras.provider.Registry(insecure=True)
        options = {"do_chunked": True, "chunk_size": int(chunk)} if int(chunk) > 0 else {}
        response = registry.push(target=target, files=[file_ref], manifest_config=config_ref,
                                 manifest_annotations=json.loads(annotations), subject=subject, quiet=True,
                                 **options)
        container = registry.get_container(target)
        raw = registry.do_request(f"{registry.prefix}://{container.manifest_url()}", "GET",
                                  headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
        json.dump({"status": response.status_code,
                   "digest": response.headers.get("Docker-Content-Digest"),
                   "location": response.headers.get("Location"),
                   "ociSubject": response.headers.get("OCI-Subject"),
                   "manifestSize": len(raw.content),
                   "manifestMediaType": raw.headers.get("Content-Type"),
                   "manifest": raw.json()}, open(result, "w"))
        """#

    /// argv: result, target, outdir. Pulls with oras' own `pull`.
    static let pullScript = #"""
        import json, sys
        import oras.provider
        result, target, outdir = sys.argv[1:4]
        registry = oras.provider.Registry(insecure=True)
        files = registry.pull(target=target, outdir=outdir)
        json.dump({"files": files}, open(result, "w"))
        """#
}
