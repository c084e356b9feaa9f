// berth-bench engine [DIR]   engine-level figures (DIR defaults to ./bench-data)
// berth-bench gc [DIR]       GC pass cost against garbage and store size
// berth-bench gc-drain [DIR] GC backlog under sustained small-image pushes
// berth-bench e2e [WORKDIR] [--regctl PATH] [--distribution PATH] [--quick]
//                            Berth vs CNCF distribution over HTTP on loopback
//                            (WORKDIR defaults to ./bench-e2e, removed at the end)
// berth-bench limits [WORKDIR] [--regctl PATH] [--quick]
//                            Berth against nginx and dd on this machine, same run
import Foundation

let args = CommandLine.arguments
switch args.count > 1 ? args[1] : "" {
case "engine":
    try EngineBench(dir: args.count > 2 ? args[2] : FileManager.default.currentDirectoryPath + "/bench-data").run()
case "gc":
    try GCBench(dir: args.count > 2 ? args[2] : FileManager.default.currentDirectoryPath + "/bench-data").run()
case "gc-drain":
    try GCDrainBench(dir: args.count > 2 ? args[2] : FileManager.default.currentDirectoryPath + "/bench-data").run()
case "e2e":
    var rest = Array(args.dropFirst(2))
    func option(_ name: String, _ fallback: String) -> String {
        guard let i = rest.firstIndex(of: name), i + 1 < rest.count else { return fallback }
        defer { rest.removeSubrange(i...(i + 1)) }
        return rest[i + 1]
    }
    let cwd = FileManager.default.currentDirectoryPath
    // Default: the root package's release build, next to this package.
    let regctl = option("--regctl", URL(fileURLWithPath: cwd).deletingLastPathComponent().path + "/.build/release/regctl")
    let distribution = option("--distribution", "/usr/bin/docker-registry")
    let quick = rest.contains("--quick")
    rest.removeAll { $0 == "--quick" }
    let dir = rest.first ?? cwd + "/bench-e2e"
    guard FileManager.default.isExecutableFile(atPath: regctl) else {
        print("berth-bench e2e: \(regctl) not found; build it with: (cd .. && swift build -c release -j 2 --product regctl)")
        exit(2)
    }
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/wrk") else {
        print("berth-bench e2e: wrk missing; run scripts/e2e.sh (installs it) or: apt-get install -y wrk")
        exit(2)
    }
    do {
        try E2EBench(workDir: dir, berthBinary: regctl, distBinary: distribution, quick: quick).run()
    } catch {
        print("berth-bench e2e: \(error)")
        exit(1)
    }
case "limits":
    var rest = Array(args.dropFirst(2))
    let cwd = FileManager.default.currentDirectoryPath
    var regctl = URL(fileURLWithPath: cwd).deletingLastPathComponent().path + "/.build/release/regctl"
    if let i = rest.firstIndex(of: "--regctl"), i + 1 < rest.count { regctl = rest[i + 1]; rest.removeSubrange(i...(i + 1)) }
    let quick = rest.contains("--quick")
    rest.removeAll { $0 == "--quick" }
    for tool in [regctl, "/usr/bin/wrk", "/usr/sbin/nginx"] where !FileManager.default.isExecutableFile(atPath: tool) {
        print("berth-bench limits: \(tool) missing (regctl: swift build -c release -j 2 --product regctl at the root; apt-get install -y wrk nginx-light)")
        exit(2)
    }
    do {
        try LimitsBench(workDir: rest.first ?? cwd + "/bench-limits", berthBinary: regctl, quick: quick).run()
    } catch {
        print("berth-bench limits: \(error)")
        exit(1)
    }
default:
    print("usage: berth-bench engine [DIR] | berth-bench gc [DIR] | berth-bench gc-drain [DIR] | berth-bench e2e [WORKDIR] [--regctl PATH] [--distribution PATH] | berth-bench limits [WORKDIR] [--regctl PATH] [--quick]")
    exit(2)
}
