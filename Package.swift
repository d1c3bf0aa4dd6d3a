// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "ConvNet",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ConvNet", targets: ["ConvNet"]),
        .library(name: "ConvNetCore", targets: ["ConvNetCore"]),
        .library(name: "ConvNetData", targets: ["ConvNetData"]),
        .library(name: "ConvNetFiles", targets: ["ConvNetFiles"]),
        .library(name: "ConvNetVisualization", targets: ["ConvNetVisualization"]),
        .executable(name: "convnet", targets: ["convnet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // C libraries from the system (Debian: libhdf5-dev, zlib1g-dev, libpng-dev, libjpeg-dev).
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"]), .brew(["hdf5"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"]), .brew(["jpeg-turbo"])]),
        // Error-safe wrappers around libpng/libjpeg's setjmp-based error handling.
        .target(name: "CImageShims", dependencies: ["CPNG", "CJPEG"]),
        // The network itself: depends on nothing of ours and on no C library (BLAS is loaded at run time).
        .target(name: "ConvNetCore"),
        .target(name: "ConvNetFiles", dependencies: ["ConvNetCore", "CHDF5"]),
        .target(name: "ConvNetData", dependencies: ["ConvNetCore", "ConvNetFiles", "CZlib", "CPNG", "CJPEG", "CImageShims"]),
        .target(name: "ConvNetVisualization", dependencies: ["ConvNetCore", "ConvNetData", "ConvNetFiles"]),
        // Everything above in one import.
        .target(name: "ConvNet", dependencies: ["ConvNetCore", "ConvNetData", "ConvNetFiles", "ConvNetVisualization"]),
        .executableTarget(
            name: "convnet",
            dependencies: ["ConvNet", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "ConvNetTests", dependencies: ["ConvNet"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
