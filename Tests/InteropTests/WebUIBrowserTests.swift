// The web page (issue 11) in a real browser: Debian's chromium, headless,
// driven over the DevTools protocol (Support/Chromium), against a real
// `regctl serve` holding images pushed by skopeo with htpasswd and access
// rules: an index with two platforms, a signature referrer, an untagged
// manifest, a hostile annotation, and a repository the user may not see.
// The user logs in through the form, every page is checked against what the
// store holds, a promotion is submitted through the page's own forms (its
// CSRF token, chromium's Origin), and a screenshot of each page is written
// to docs/ui/.
//
// Without chromium the suite is skipped with a message, unless CI=true:
// there a missing chromium is a failure.

import Foundation
import Testing

@Suite("Web page in chromium", .serialized, .timeLimit(.minutes(5)))
struct WebUIBrowserTests {
    static let underCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static let hostile = #"<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>"#
    static let signatureType = "application/vnd.example.signature.v1+json"

    /// docs/ui/ of this checkout.
    static var screenshots: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/ui")
    }

    @Test func berthUIEnabledFalseTurnsThePageOff() throws {
        let off = try RegistryProcess.start(environment: ["REGISTRY_BERTH_UI_ENABLED": "false"])
        defer { off.stop() }
        #expect(try HTTPProbe.request(url: off.baseURL + "/ui/").status == 404)
        let on = try RegistryProcess.start()
        defer { on.stop() }
        let page = try HTTPProbe.request(url: on.baseURL + "/ui/")
        #expect(page.status == 200 && page.header("content-security-policy")?.contains("default-src 'none'") == true)
    }

    @Test(.enabled(if: Chromium.executable != nil || underCI,
                   "chromium is not installed (apt-get install chromium); skipped. Under CI=true this is a failure."))
    func everyPageInARealBrowser() throws {
        let browser = try Chromium.start()
        defer { browser.stop() }
        let work = try TemporaryDirectory("webui")
        let layout = try OCILayout.create(at: work.path("src"))
        let app = try layout.addImage(seed: "app", layerCount: 2)
        let beta = try layout.addImage(seed: "app-beta", layerCount: 1)
        let amd64 = try layout.addImage(seed: "multi", layerCount: 1, architecture: "amd64")
        let arm64 = try layout.addImage(seed: "multi", layerCount: 1, architecture: "arm64")
        let index = try layout.addIndex([amd64.platformManifest, arm64.platformManifest])
        let loose = try layout.addImage(seed: "loose", layerCount: 1)
        let hidden = try layout.addImage(seed: "hidden", layerCount: 1)
        // v1: app's config and layers under a manifest whose annotation is hostile.
        let encoder = JSONEncoder()
        func object(_ d: LayoutDescriptor) throws -> Any { try JSONSerialization.jsonObject(with: encoder.encode(d)) }
        let hostileManifest = try layout.writeBlob(try JSONSerialization.data(withJSONObject: [
            "schemaVersion": 2, "mediaType": MediaTypes.imageManifest,
            "config": try object(app.config), "layers": try app.layers.map(object),
            "annotations": ["org.example.note": Self.hostile, "org.opencontainers.image.title": "web app"],
        ] as [String: Any], options: [.sortedKeys]), mediaType: MediaTypes.imageManifest)
        let signature = try layout.addArtifact(
            artifactType: Self.signatureType, subject: hostileManifest,
            payload: Data(#"{"critical":{"image":{"docker-manifest-digest":"\#(hostileManifest.digest)"}}}"#.utf8),
            payloadMediaType: "application/vnd.example.signature.v1+json")
        for (d, ref) in [(hostileManifest, "v1"), (beta.manifest, "beta"), (index, "multi"), (loose.manifest, "loose"),
                         (hidden.manifest, "hidden"), (signature, "sig")] {
            try layout.tag(d, as: ref)
        }

        let htpasswd = work.path("htpasswd").path
        let tool = try Command.require("htpasswd", package: "apache2-utils")
        try Command.check(tool, ["-B", "-C", "5", "-b", "-c", htpasswd, "alice", "alice-pass"])
        try Command.check(tool, ["-B", "-C", "5", "-b", htpasswd, "admin", "admin-pass"])
        let config = work.path("config.yml")
        try """
            version: 0.1
            storage:
              delete:
                enabled: true
            auth:
              htpasswd:
                realm: berth
                path: \(htpasswd)
                access:
                  catalog: [admin]
                  rules:
                    - repository: "web/**"
                      users: [alice]
                      actions: [pull, push]
                    - repository: "**"
                      users: [admin]
                      actions: [pull, push, delete]
            berth:
              gc:
                deleteuntagged: true
                untaggeddelay: 2h
            """.write(to: config, atomically: true, encoding: .utf8)

        let server = try RegistryProcess.start(configFile: config)
        defer { server.stop() }
        let host = server.host
        let src = "oci:\(layout.root.path)"
        func push(_ ref: String, _ dest: String, all: Bool = false) throws {
            try Command.check(try Skopeo.executable(), ["--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false",
                                                       "--dest-creds", "admin:admin-pass", "--preserve-digests"]
                              + (all ? ["--all"] : []) + ["\(src):\(ref)", "docker://\(host)/\(dest)"])
        }
        func digest(_ ref: String) throws -> String {
            try SHA256.digest(of: Command.check(try Skopeo.executable(), [
                "--insecure-policy", "inspect", "--raw", "--tls-verify=false", "--creds", "admin:admin-pass", "docker://\(host)/\(ref)",
            ]).stdout)
        }
        try push("v1", "web/app:v1")
        try push("beta", "web/app:beta")
        try push("sig", "web/app@\(signature.digest)")
        try push("loose", "web/app@\(loose.manifest.digest)")
        try push("multi", "web/multi:v1", all: true)
        try push("hidden", "secret/hidden:v1")
        #expect(try digest("web/app:v1") == hostileManifest.digest)

        let base = server.baseURL + "/ui"
        // Logged out: nothing of the registry is visible, the login form is.
        try browser.navigate(base + "/")
        #expect(try !browser.dom().contains("web/app"))
        try browser.navigate(base + "/login")
        try browser.screenshot(to: Self.screenshots.appendingPathComponent("login.png"))
        try browser.submit("""
            document.querySelector('input[name=user]').value = 'alice';
            document.querySelector('input[name=password]').value = 'alice-pass';
            document.getElementById('login').submit()
            """)
        #expect(browser.url == base + "/", "the login redirects to the registry page")

        // 1. Registry.
        let home = try browser.dom()
        #expect(home.contains("signed in as <b>alice</b>"))
        #expect(home.contains(">web/app</a>") && home.contains(">web/multi</a>"))
        #expect(!home.contains("secret"), "the repository alice may not pull never appears")
        try browser.screenshot(to: Self.screenshots.appendingPathComponent("registry.png"))

        // 2. Repository.
        try browser.navigate(base + "/repo/web/app")
        let repo = try browser.dom()
        #expect(repo.contains("docker pull \(host)/web/app:v1") && repo.contains("podman pull \(host)/web/app:beta"))
        #expect(repo.contains("/ui/repo/web/app/-/manifest/\(hostileManifest.digest)"))
        #expect(repo.contains("linux/amd64"), "the image's platform, from its config")
        let untagged = try browser.evaluate("Array.from(document.querySelectorAll('#untagged tbody tr')).map(r => r.getAttribute('data-digest'))") as? [String]
        #expect(untagged == [loose.manifest.digest], "the untagged manifest (the signature is kept by its subject)")
        #expect(try browser.text("#untagged .due")?.hasPrefix("after ") == true, "with the time the collector takes it")
        try browser.screenshot(to: Self.screenshots.appendingPathComponent("repository.png"))
        try browser.evaluate("var f = document.querySelector('input[data-filter]'); f.value = 'bet'; f.dispatchEvent(new Event('input'))")
        let visible = try browser.evaluate("Array.from(document.querySelectorAll('#tags tbody tr')).filter(r => !r.hidden).map(r => r.getAttribute('data-tag'))") as? [String]
        #expect(visible == ["beta"], "the script filters the tag list")

        // 3. Manifest: hostile annotation as text, referrers, layers, config.
        try browser.navigate(base + "/repo/web/app/-/manifest/\(hostileManifest.digest)")
        #expect(try browser.evaluate("document.title") as? String != "pwned")
        #expect(try browser.evaluate("document.querySelectorAll('main img, main script').length") as? Int == 0)
        #expect(try browser.text("#annotations")?.contains(Self.hostile) == true, "the annotation renders as text")
        #expect(try browser.text("#referrers")?.contains(Self.signatureType) == true)
        let referrerLink = try browser.evaluate("document.querySelector('#referrers a').getAttribute('href')") as? String
        #expect(referrerLink == "/ui/repo/web/app/-/manifest/\(signature.digest)")
        #expect(try browser.evaluate("document.querySelectorAll('#layers tbody tr').length") as? Int == 2)
        #expect(try browser.text("#config")?.contains("amd64") == true)
        #expect(try browser.text("#history")?.contains("interop layer 1") == true)
        #expect(try browser.text("#raw")?.contains("org.example.note") == true)
        try browser.screenshot(to: Self.screenshots.appendingPathComponent("manifest.png"))

        // The index's children with their platforms.
        try browser.navigate(base + "/repo/web/multi/-/manifest/\(index.digest)")
        let children = try browser.text("#children") ?? ""
        #expect(children.contains("linux/amd64") && children.contains("linux/arm64"))
        try browser.screenshot(to: Self.screenshots.appendingPathComponent("index.png"))

        // 4. Tag history and a promotion through the page's forms: beta → v1.
        try browser.navigate(base + "/repo/web/app/-/history/beta")
        try browser.screenshot(to: Self.screenshots.appendingPathComponent("history.png"))
        try browser.submit("document.querySelector('#promote input[name=chain]').value = 'beta v1'; document.getElementById('promote').submit()")
        #expect(try browser.text("#promotion-plan")?.contains("v1") == true, "a confirmation step first")
        #expect(try digest("web/app:v1") == hostileManifest.digest, "asking moved nothing")
        try browser.screenshot(to: Self.screenshots.appendingPathComponent("promote-confirm.png"))
        try browser.submit("document.getElementById('confirm').submit()")
        #expect(browser.url == base + "/repo/web/app/-/history/v1")
        #expect(try digest("web/app:v1") == beta.manifest.digest, "the promotion moved v1 to beta's manifest")
        #expect(try digest("web/app:beta") == beta.manifest.digest)
        let history = try browser.text("#tag-history") ?? ""
        #expect(history.contains("promote") && history.contains("alice"), "recorded as alice's promotion")

        // An admin (catalog rights) sees every repository and the totals.
        try browser.submit("document.querySelector('header form').submit()")
        try browser.navigate(base + "/login")
        try browser.submit("""
            document.querySelector('input[name=user]').value = 'admin';
            document.querySelector('input[name=password]').value = 'admin-pass';
            document.getElementById('login').submit()
            """)
        #expect(try browser.dom().contains(">secret/hidden</a>"))
        #expect(try browser.text("#stored-bytes")?.hasSuffix(" B") == false, "stored bytes in KiB at least")
        #expect(try browser.text("#gc-backlog") != nil && browser.text("#last-collection") != nil)
        try browser.screenshot(to: Self.screenshots.appendingPathComponent("registry-admin.png"))
        try browser.submit("document.querySelector('header form').submit()")

        // For alice, the forbidden repository's pages answer as if it did not exist.
        try browser.navigate(base + "/login")
        try browser.submit("""
            document.querySelector('input[name=user]').value = 'alice';
            document.querySelector('input[name=password]').value = 'alice-pass';
            document.getElementById('login').submit()
            """)
        try browser.navigate(base + "/repo/secret/hidden")
        #expect(try browser.dom().contains("No such repository"))
        #expect(try !browser.dom().contains(hidden.manifest.digest))
        let errors = server.serverErrorLines
        #expect(errors.isEmpty, "5xx answers:\n\(errors.prefix(10).joined(separator: "\n"))")
    }
}
