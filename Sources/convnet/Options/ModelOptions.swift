import Foundation
import ArgumentParser
import ConvNet

/// `--model`, the same in every command: a zoo name, a model file (.keras, .h5) or a Keras JSON config.
struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A zoo model name (see `convnet summary --list`), a model file (.keras, .h5) or a Keras JSON config.",
                               valueName: "name-or-file"))
    var model: String?

    /// The model named, or `fallback` when `--model` is not given.
    func name(default fallback: String) -> String { model ?? fallback }

    /// The model named, or a usage error when `--model` is missing.
    func required(_ what: String) throws -> String {
        guard let model else { throw ValidationError("Missing --model: \(what)") }
        return model
    }

    /// Refuses a model that has no trained weights (a zoo name or a Keras JSON config) unless `allowed`.
    static func requireTrained(_ model: String, allowed: Bool) throws {
        guard ModelFileFormat(path: model)?.holdsWeights != true, !allowed else { return }
        throw ValidationError("--model \(model): this model is untrained (random weights); pass a trained model file "
                              + "(\(ModelFileFormat.trainedModelExtensions), e.g. from `convnet train --save`), or --allow-untrained to use it anyway")
    }
}

/// `--dataset`, `--data-dir` and `--no-download`, the same in every command that loads data.
struct DatasetOptions: ParsableArguments {
    @Option(help: "fashion-mnist, mnist, cifar10 (downloaded when missing), signs or a SIGNS-style .h5 file, or a folder of class subfolders (with train/ and test/ inside, or not).")
    var dataset = "fashion-mnist"
    @Option(help: "Folder holding the dataset's files (mnist, cifar10, signs, or another Fashion-MNIST copy).") var dataDir: String?
    @Flag(help: "Never download a missing dataset (mnist, fashion-mnist, cifar10); fail with where to put the files.") var noDownload = false
    @Option(help: ArgumentHelp("Use only these classes of the dataset (both splits), relabelled 0, 1, ... in the order given, e.g. 5,6,7,8,9 or 5-9. --limit then counts images of these classes.",
                               valueName: "classes"))
    var classSubset: String?
    @OptionGroup var padOption: PadOption

    func validate() throws {
        if let classSubset {
            do { _ = try ClassSubset.parse(classSubset) } catch { throw ValidationError("\(error)") }
        }
    }

    /// The resolver for these options, using the first `limit` training images.
    func resolver(limit: Int? = nil) -> DatasetResolver {
        DatasetResolver(name: dataset, dataDirectory: dataDir, limit: limit, download: !noDownload,
                        classSubset: classSubset.flatMap { try? ClassSubset.parse($0) },
                        padding: padOption.pad.flatMap { try? ImagePadding(pixels: $0) })
    }
}

/// `--limit`: train on fewer images.
struct LimitOption: ParsableArguments {
    @Option(help: "Use only N training samples: the first N (image folders: a class-balanced subset, round-robin over the classes).")
    var limit: Int?

    func validate() throws {
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive, got \(limit)") }
    }
}

/// `--batch-size`, whose default depends on the command.
struct BatchSizeOption: ParsableArguments {
    @Option(help: "Samples per batch (default: 32 for training, 256 for evaluate, 64 for bench).") var batchSize: Int?

    func validate() throws {
        if let batchSize, batchSize <= 0 { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
    }

    func value(default fallback: Int) -> Int { batchSize ?? fallback }
}

/// `--threads` and `--precision`, for every command that computes.
struct ComputeOptions: ParsableArguments {
    @Option(help: "Threads for ConvNet's kernels and BLAS (default: all cores).") var threads: Int?
    @Option(help: ArgumentHelp("Number format of every convolution and dense multiply: fp32, or bf16 (bfloat16 operands, float32 accumulation and weights, like Keras's mixed_bfloat16 and PyTorch's autocast; needs AVX512-BF16 and oneDNN, `apt-get install libdnnl2`, else computes in fp32 with a notice).", valueName: "fp32|bf16"))
    var precision = "fp32"

    func validate() throws {
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive, got \(threads)") }
        guard ComputePrecision(rawValue: precision) != nil else {
            throw ValidationError("--precision must be \(ComputePrecision.allCases.map(\.rawValue).joined(separator: " or ")), got '\(precision)'")
        }
    }

    /// Sets the thread count when `--threads` was given, and the process's precision; says on
    /// standard error when bf16 was asked for and this machine computes fp32 instead.
    func apply() {
        if let threads { Parallel.setThreads(threads) }
        let chosen = ComputePrecision(rawValue: precision) ?? .float32
        ComputePrecision.setDefault(chosen)
        if chosen == .bfloat16, case let .failure(reason) = ComputePrecision.bfloat16Support {
            FileHandle.standardError.write(Data("note: --precision bf16 computes in fp32 here: \(reason.description)\n".utf8))
        }
    }
}
