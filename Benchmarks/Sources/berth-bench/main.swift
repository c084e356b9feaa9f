// berth-bench engine [DIR]   engine-level figures (DIR defaults to ./bench-data)
import Foundation

let args = CommandLine.arguments
switch args.count > 1 ? args[1] : "" {
case "engine":
    try EngineBench(dir: args.count > 2 ? args[2] : FileManager.default.currentDirectoryPath + "/bench-data").run()
default:
    print("usage: berth-bench engine [DIR]")
    exit(2)
}
