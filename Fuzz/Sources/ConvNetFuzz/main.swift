// libFuzzer entry points for ConvNet's readers of untrusted files. Built with
// `-sanitize=fuzzer,address -parse-as-library` (scripts/fuzz.sh), so this file declares no
// top-level code: libFuzzer's own `main` calls `LLVMFuzzerTestOneInput` with each input.
//
// One binary serves every reader; the environment variable CONVNET_FUZZ_TARGET picks it:
//   idx         IDX image and label files, raw or gzipped (IDX.readImages, IDX.readLabels)
//   cifar       CIFAR-10 binary batches (CIFAR10.readBatch)
//   image       PNG and JPEG (ImageCodec.decode)
//   hdf5        Keras .h5 model files and checkpoints (Model.load, TrainingCheckpoint.load)
//   keras-json  Keras model configs (KerasModelJSON.model(fromJSON:), then the summary)
//
// A thrown error is the expected answer to a bad input; a crash, a sanitizer report, a leak, a
// timeout or an allocation over libFuzzer's limit is a finding.

import CFuzzerDriver
import ConvNet
import Foundation

/// The program's entry point where SwiftPM names it `ConvNetFuzz_main` (Linux): hands over to
/// libFuzzer's driver, which calls `LLVMFuzzerInitialize` and then `LLVMFuzzerTestOneInput`.
@_cdecl("ConvNetFuzz_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return testOneInput(data, size)
    }
}

/// The reader under test, from CONVNET_FUZZ_TARGET.
nonisolated(unsafe) private var target = ""
/// A file in memory-backed /dev/shm (or /tmp) for the readers that take a path.
nonisolated(unsafe) private var scratchPath = ""

/// libFuzzer's start-up hook: reads CONVNET_FUZZ_TARGET and lowers ConvNet's limits.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    target = ProcessInfo.processInfo.environment["CONVNET_FUZZ_TARGET"] ?? ""
    let known = ["idx", "cifar", "image", "hdf5", "keras-json"]
    guard known.contains(target) else {
        FileHandle.standardError.write(Data("CONVNET_FUZZ_TARGET must be one of \(known.joined(separator: ", ")), got '\(target)'\n".utf8))
        exit(2)
    }
    let folder = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    scratchPath = "\(folder)/convnet-fuzz-\(ProcessInfo.processInfo.processIdentifier)-\(target)"
    // Within libFuzzer's default 2 GB memory limit: what a reader may allocate for one input.
    AllocationLimit.maximumBytes = 256 << 20
    ImageCodec.maximumPixels = 16 << 20
    atexit { unlink(scratchPath) }
    return 0
}

/// libFuzzer's per-input hook: runs the selected reader on `size` bytes at `data`; always 0.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
    switch target {
    case "idx":
        withScratchFile(bytes) { path in
            _ = try? IDX.readImages(path: path)
            _ = try? IDX.readLabels(path: path)
        }
    case "cifar":
        withScratchFile(bytes) { path in _ = try? CIFAR10.readBatch(path: path) }
    case "image":
        _ = try? ImageCodec.decode(bytes: bytes, source: "input")
    case "hdf5":
        withScratchFile(bytes) { path in
            if let model = try? Model.load(from: path) { _ = model.summary() }
            _ = try? TrainingCheckpoint.load(from: path)
        }
    case "keras-json":
        if let model = try? KerasModelJSON.model(fromJSON: String(decoding: bytes, as: UTF8.self)) { _ = model.summary() }
    default:
        break
    }
    return 0
}

private func withScratchFile(_ bytes: [UInt8], _ body: (String) -> Void) {
    guard FileManager.default.createFile(atPath: scratchPath, contents: Data(bytes)) else { return }
    body(scratchPath)
}
