// The process entry point: the last path component of argv[0] picks the
// command line. `registry` (the symlink `make build` makes; /bin/registry in
// an image) is distribution's (DistributionCLI.swift); any other name is
// regctl's (Regctl.swift).

import Foundation

@main
enum Entry {
    static func main() async {
        let argv = CommandLine.arguments
        if argv.first?.split(separator: "/").last == "registry" {
            await DistributionCLI.main(argv)
        } else {
            await Regctl.main(Regctl.normalized(Array(argv.dropFirst())))
        }
    }
}
