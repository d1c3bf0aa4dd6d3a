// swift-tools-version: 6.0
import Foundation
import PackageDescription

/// Open MPI support (the `ConvNetDistributed` library and `mpirun -np N convnet train`): on with
/// `CONVNET_MPI=1`, off with `CONVNET_MPI=0`, otherwise on exactly when pkg-config finds Open MPI's
/// `ompi-c` (Debian: libopenmpi-dev, which `make setup` installs). Without it everything else builds.
let mpi: Bool = {
    switch ProcessInfo.processInfo.environment["CONVNET_MPI"] {
    case "1": return true
    case "0": return false
    default:
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["pkg-config", "--exists", "ompi-c"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }
}()

/// The CPU the kernels (`ConvNetCore`) are compiled for: `CONVNET_TARGET_CPU=native` for the building
/// machine's instruction set (AVX2 and AVX-512 where it has them), or an LLVM CPU name
/// such as `haswell` or `znver3`. Unset, the compiler's baseline (x86-64: SSE2 only; arm64: as is),
/// which runs on every machine of the architecture but leaves `SIMD8<Float>` as two SSE halves.
/// A binary built with it needs that CPU. (An unsafe flag: a package that depends on ConvNet by
/// version cannot set it; SwiftPM allows it for the root package.)
let targetCPU: String? = ProcessInfo.processInfo.environment["CONVNET_TARGET_CPU"].flatMap { $0.isEmpty ? nil : $0 }

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
    ] + (mpi ? [.library(name: "ConvNetDistributed", targets: ["ConvNetDistributed"])] : []),
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // C libraries from the system (Debian: libhdf5-dev, zlib1g-dev, libpng-dev, libjpeg-dev).
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"]), .brew(["hdf5"])]),
        // (Not named CZlib: ZIPFoundation's own zlib module has that name.)
        .systemLibrary(name: "CZlibSystem", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"]), .brew(["jpeg-turbo"])]),
        // Error-safe wrappers around libpng/libjpeg's setjmp-based error handling.
        .target(name: "CImageShims", dependencies: ["CPNG", "CJPEG"]),
        // Loops compiled for AVX2 + FMA and for the baseline, chosen at run time by the CPU's flags; no library.
        .target(name: "CKernels"),
        // The network itself: depends on no C library (BLAS is loaded at run time), only on CKernels.
        .target(name: "ConvNetCore", dependencies: ["CKernels"], swiftSettings: targetCPU.map { [.unsafeFlags(["-target-cpu", $0])] } ?? []),
        .target(name: "ConvNetFiles", dependencies: ["ConvNetCore", "CHDF5", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .target(name: "ConvNetData", dependencies: ["ConvNetCore", "ConvNetFiles", "CZlibSystem", "CPNG", "CJPEG", "CImageShims",
                                                   .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "ConvNetVisualization", dependencies: ["ConvNetCore", "ConvNetData", "ConvNetFiles"]),
        // Everything above in one import.
        .target(name: "ConvNet", dependencies: ["ConvNetCore", "ConvNetData", "ConvNetFiles", "ConvNetVisualization"]),
        .executableTarget(
            name: "convnet",
            dependencies: ["ConvNet", .product(name: "ArgumentParser", package: "swift-argument-parser")]
                + (mpi ? ["ConvNetDistributed"] : []),
            // `#if CONVNET_MPI`, not `canImport`: a module left in .build by an earlier build with MPI must not count.
            swiftSettings: mpi ? [.define("CONVNET_MPI")] : []
        ),
        .testTarget(name: "ConvNetTests", dependencies: ["ConvNet", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
                    exclude: ["Fixtures"]),
    ] + (mpi ? [
        // Data-parallel training over Open MPI (Debian: libopenmpi-dev); see `mpi` above.
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"]), .brew(["open-mpi"])]),
        .target(name: "ConvNetDistributed", dependencies: ["ConvNetCore", "CMPI"]),
    ] : []),
    swiftLanguageModes: [.v6]
)
