// swift-tools-version: 6.0
// A package that depends on ConvNet's core alone (`scripts/check-core-only.sh` builds and runs it):
// it must build without libhdf5, libpng, libjpeg or zlib, and without compiling ConvNet's data,
// files or visualisation modules.
import PackageDescription

let package = Package(
    name: "CoreOnly",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "ConvNet", path: "../..")],
    targets: [
        .executableTarget(name: "CoreOnly", dependencies: [.product(name: "ConvNetCore", package: "ConvNet")]),
    ],
    swiftLanguageModes: [.v6]
)
