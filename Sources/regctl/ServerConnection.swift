// How the commands that talk to a running Berth (tag, du, ls, rm) find it and
// log in: `--url` (or BERTH_URL; default http://127.0.0.1:5000), HTTP Basic
// credentials from --username / BERTH_USERNAME and BERTH_PASSWORD, `--ca-file`
// for https, `--json` for the server's answer as is; and how they report a
// refusal (the OCI error's code and message on stderr, exit status 1).

import ArgumentParser
import Foundation

struct ServerConnection: ParsableArguments {
    @Option(help: "The registry's base URL (or BERTH_URL; default http://127.0.0.1:5000).")
    var url: String?
    @Option(help: "User for HTTP Basic (or BERTH_USERNAME); the password is read from BERTH_PASSWORD.")
    var username: String?
    @Option(help: "CA bundle to trust for an https --url.")
    var caFile: String?
    @Flag(help: "Print the server's JSON answer.")
    var json = false

    func client() throws -> RegistryClient {
        let env = ProcessInfo.processInfo.environment
        return try RegistryClient(base: url ?? env["BERTH_URL"] ?? "http://127.0.0.1:5000",
                                  username: username ?? env["BERTH_USERNAME"], password: env["BERTH_PASSWORD"],
                                  caFile: caFile)
    }

    /// Prints a 2xx answer (`human` gets the parsed JSON object) or the OCI
    /// error on stderr with exit status 1.
    static func finish(_ r: RegistryClient.Response, json: Bool, human: ([String: Any]) -> Void) throws {
        let object = (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any] ?? [:]
        guard (200..<300).contains(r.status) else {
            let first = (object["errors"] as? [[String: Any]])?.first
            let code = first?["code"] as? String ?? "HTTP \(r.status)"
            let message = first?["message"] as? String ?? r.text
            let detail = first?["detail"].map { " (\($0))" } ?? ""
            FileHandle.standardError.write(Data("Error: \(code): \(message)\(detail)\n".utf8))
            throw ExitCode(1)
        }
        if json { print(r.text) } else { human(object) }
    }
}
