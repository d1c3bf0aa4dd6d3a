// swift-tools-version:6.0
// libFuzzer entry points for ConvNet's file readers; see README.md here and scripts/fuzz.sh.
import PackageDescription

let package = Package(
    name: "ConvNetFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "ConvNet", path: "..")],
    targets: [
        .target(name: "CFuzzerDriver"),
        .executableTarget(name: "ConvNetFuzz", dependencies: [.product(name: "ConvNet", package: "ConvNet"), "CFuzzerDriver"]),
    ]
)
