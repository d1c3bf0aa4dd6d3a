import ArgumentParser
import ConvNet
import Foundation

/// `convnet bench`: the measurements, one subcommand each; `bench --model M` runs `bench model`.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training and inference throughput of a zoo model (`bench model`, the default), SGEMM (`bench gemm`) or one convolution layer (`bench conv`).",
        discussion: """
        Examples:
          convnet bench --model lenet5 --batch-size 64 --threads 2
          convnet bench --model cifar --min-seconds 2 --repeats 5 --json
          convnet bench --model lenet5 --steps 600 --min-seconds 0 --repeats 3
          convnet bench gemm --size 1024
          convnet bench conv --input 128x32x32x16 --filters 16
        """,
        // Each measurement is its own subcommand with its own options: options declared on this
        // command as well would be taken by it, not by the subcommand (`bench gemm --json` was).
        subcommands: [ModelBenchCommand.self, GEMMBenchCommand.self, ConvolutionBenchCommand.self, AllReduceBenchCommand.self],
        defaultSubcommand: ModelBenchCommand.self)
}

/// `convnet bench [model] --model M`: training and inference throughput of a zoo model, measured exactly as
/// `benchmarks/pytorch/throughput.py` measures PyTorch, so the two can be compared side by side.
///
/// The work per training step is the script's: one batch of random inputs of the model's shape
/// (uniform in [0, 1)) with random labels, forward, softmax cross-entropy, backward, one Adam update
/// (learning rate 1e-3). Inference is a forward pass without a tape.
///
/// A single short timing is not a measurement: 60 LeNet-5 steps (0.2 s) gave 17,155, 18,693 and
/// 26,541 images/s in three runs. So each figure is timed over enough steps to last `minSeconds`
/// (the step count found by a calibrating run that also warms up; at least `steps`), `repeats`
/// times in the process, and reported as the median with the spread (min–max). The step counts
/// used are printed, so that PyTorch can be given the same ones (`scripts/compare-pytorch.sh`
/// does). The JSON fields match the script's, plus the model's FLOP rate against SGEMM's.
struct ModelBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Measure training and inference throughput of a zoo model (the default of `convnet bench`).",
        discussion: "Example: convnet bench --model cifar --min-seconds 2 --repeats 5 --json")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var batchSizeOption: BatchSizeOption
    @OptionGroup var computeOptions: ComputeOptions
    @Option(help: "Timed training steps per repeat (at least; --min-seconds may raise it).") var steps = 60
    @Option(help: "Timed inference steps per repeat (default: --steps; --min-seconds may raise it).") var inferSteps: Int?
    @Option(help: "Untimed steps before each measurement.") var warmup = 10
    @Option(help: "Raise the step counts until one repeat lasts at least this long (0: use them as given).") var minSeconds = 2.0
    @Option(help: "Timed repeats of each measurement; the median and the spread (min–max) are reported.") var repeats = 5
    @Flag(help: "Print one JSON object (the PyTorch script's fields, plus FLOP rates).") var json = false

    func validate() throws {
        guard steps > 0 else { throw ValidationError("--steps must be positive, got \(steps)") }
        guard warmup >= 0 else { throw ValidationError("--warmup must not be negative, got \(warmup)") }
        if let inferSteps, inferSteps <= 0 { throw ValidationError("--infer-steps must be positive, got \(inferSteps)") }
        guard minSeconds >= 0, minSeconds.isFinite else { throw ValidationError("--min-seconds must be 0 or more, got \(minSeconds)") }
        guard repeats > 0 else { throw ValidationError("--repeats must be positive, got \(repeats)") }
    }

    func run() throws {
        let model = try modelOptions.required("a zoo model such as lenet5, conv4x7 or cifar (or a subcommand: `convnet bench gemm`)")
        let batch = batchSizeOption.value(default: 64)
        computeOptions.apply()
        var network = try ModelZoo.model(named: model, seed: 0)
        let sampleShape = try network.inputShape.map { size -> Int in
            guard let size else { throw ValidationError("model \(model) has an open input size; benchmark a fixed-size model") }
            return size
        }
        let classes = network.outputShape.last.flatMap { $0 } ?? 10
        network.compile(optimizer: Adam(learningRate: 1e-3), loss: .sparseCategoricalCrossentropy(), metrics: [])
        var generator = RandomGenerator(seed: 0)
        let inputs = Tensor.randomUniform(shape: [batch] + sampleShape, generator: &generator)
        let labels = (0..<batch).map { _ in Int(generator.next() % UInt64(classes)) }
        let data = Batch(inputs: inputs, labels: labels)

        var context = ForwardContext(training: true)
        let train = try measure(steps: steps, batch: batch) { _ = try network.trainOnBatch(data, context: &context) }
        let infer = try measure(steps: inferSteps ?? steps, batch: batch) { _ = try network.predict(inputs) }
        let peakRSS = peakResidentMegabytes()  // before the SGEMM measurement allocates its matrices

        let flops = ModelFLOPs(network)
        let trainRate = train.rates.median, inferRate = infer.rates.median
        let trainGFLOPs = trainRate * flops.training / 1e9, inferGFLOPs = inferRate * flops.inference / 1e9
        let peak = SGEMMTiming.measure(size: 1024, repeats: 10).median
        if json {
            let fields: [(String, String)] = [
                ("framework", "\"convnet\""), ("gemm", "\"\(GEMM.backendDescription)\""), ("model", "\"\(model)\""),
                ("precision", "\"\(ComputePrecision.effective.rawValue)\""),
                ("batch", "\(batch)"), ("threads", "\(Parallel.threads)"), ("parameters", "\(network.parameterCounts.trainable)"),
                ("train_images_per_s", format(trainRate)), ("infer_images_per_s", format(inferRate)),
                ("train_images_per_s_min", format(train.rates.min)), ("train_images_per_s_max", format(train.rates.max)),
                ("infer_images_per_s_min", format(infer.rates.min)), ("infer_images_per_s_max", format(infer.rates.max)),
                ("train_steps", "\(train.steps)"), ("infer_steps", "\(infer.steps)"), ("repeats", "\(repeats)"),
                ("peak_rss_mb", format(peakRSS)), ("gflops_train", format(trainGFLOPs)), ("gflops_infer", format(inferGFLOPs)),
                ("sgemm_peak_gflops", format(peak)), ("peak_fraction_train", String(format: "%.3f", trainGFLOPs / peak)),
                ("peak_fraction_infer", String(format: "%.3f", inferGFLOPs / peak)),
            ]
            print("{" + fields.map { "\"\($0)\": \($1)" }.joined(separator: ", ") + "}")
        } else {
            print("\(model), batch \(batch), \(Parallel.threads) threads, \(ComputePrecision.effective.rawValue), GEMM: \(GEMM.backendDescription)")
            print("median of \(repeats) repeats (spread min–max); \(train.steps) training, \(infer.steps) inference steps each")
            print(String(format: "training:  %9.1f images/s (%.1f–%.1f)  %6.1f GFLOP/s (%.0f%% of SGEMM's %.0f)", trainRate,
                         train.rates.min, train.rates.max, trainGFLOPs, 100 * trainGFLOPs / peak, peak))
            print(String(format: "inference: %9.1f images/s (%.1f–%.1f)  %6.1f GFLOP/s (%.0f%%)", inferRate,
                         infer.rates.min, infer.rates.max, inferGFLOPs, 100 * inferGFLOPs / peak))
            print(String(format: "peak RSS:  %9.1f MB", peakRSS))
        }
    }

    /// Images per second of `repeats` timed runs of `steps` calls of `body` each (median, min, max),
    /// after `warmup` untimed calls; with `minSeconds` > 0, `steps` is first raised until one run
    /// lasts that long (each calibrating run, untimed for the result, warms up further).
    private func measure(steps: Int, batch: Int, _ body: () throws -> Void) throws
        -> (steps: Int, rates: (median: Double, min: Double, max: Double)) {
        for _ in 0..<warmup { try body() }
        var steps = steps
        while minSeconds > 0 {
            let seconds = try timed(steps: steps, body)
            if seconds >= minSeconds { break }
            // Aim 10% past the target, so that a slightly faster repeat still lasts long enough.
            steps = max(steps + 1, Int((Double(steps) * 1.1 * minSeconds / max(seconds, 1e-6)).rounded(.up)))
        }
        var rates: [Double] = []
        for _ in 0..<repeats { rates.append(Double(steps * batch) / (try timed(steps: steps, body))) }
        rates.sort()
        let median = (rates[(rates.count - 1) / 2] + rates[rates.count / 2]) / 2
        return (steps, (median, rates[0], rates[rates.count - 1]))
    }

    /// Seconds taken by `steps` calls of `body`.
    private func timed(steps: Int, _ body: () throws -> Void) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps { try body() }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    private func format(_ value: Double) -> String { String(format: "%.1f", value) }

    /// The process's peak resident set size (`ru_maxrss`, which Linux reports in KiB), in MiB.
    private func peakResidentMegabytes() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}

/// Multiply-adds of a model's convolution and dense layers, counted as 2 FLOPs each, per image.
/// A layer's forward pass costs `F`; its backward pass `F` for the kernel gradient plus `F` for the
/// input gradient, which the first layer skips. Pooling and activations are not counted.
struct ModelFLOPs {
    var inference = 0.0
    var training = 0.0

    init(_ model: Model) {
        for (index, layer) in model.layers.enumerated() {
            let forward: Double
            if let conv = layer as? Conv2D, let kernel = conv.kernel {
                let outputPixels = model.outputShapes[index].prefix(2).reduce(1) { $0 * ($1 ?? 0) }
                forward = 2 * Double(outputPixels * kernel.count)
            } else if let dense = layer as? Dense, let kernel = dense.kernel {
                forward = 2 * Double(kernel.count)
            } else {
                continue
            }
            let readsImages = model.inbound[index] == [Model.inputNode]
            inference += forward
            training += forward * (readsImages ? 2 : 3)
        }
    }
}

/// Timing of one call, for the micro-benchmarks (`bench gemm`, `bench conv`).
enum CallTiming {
    /// Median and best seconds of `repeats` timed calls of `body` after one warm-up call.
    static func measure(repeats: Int, _ body: () -> Void) -> (median: Double, best: Double) {
        body()
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        times.sort()
        return (times[times.count / 2], times[0])
    }
}

/// Square GEMM `C = A·B` through ConvNet's one GEMM entry point: the machine-limit reference.
enum SGEMMTiming {
    /// Median and best GFLOP/s over `repeats` timed calls after one warm-up call, in `precision`
    /// (float32 by default: SGEMM, the reference the models' FLOP rates are quoted against).
    static func measure(size: Int, repeats: Int, precision: ComputePrecision = .float32) -> (median: Double, best: Double) {
        var generator = RandomGenerator(seed: 7)
        let a = Tensor.randomUniform(shape: [size, size], low: -1, high: 1, generator: &generator).scalars
        let b = Tensor.randomUniform(shape: [size, size], low: -1, high: 1, generator: &generator).scalars
        var c = [Float](repeating: 0, count: size * size)
        func multiply() {
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { c in
                        GEMM.multiply(m: size, n: size, k: size, a: a.baseAddress!, lda: size,
                                      b: b.baseAddress!, ldb: size, c: c.baseAddress!, ldc: size)
                    }
                }
            }
        }
        let seconds = ComputePrecision.with(precision) { CallTiming.measure(repeats: repeats, multiply) }
        let flops = 2 * pow(Double(size), 3)
        return (flops / seconds.median / 1e9, flops / seconds.best / 1e9)
    }
}

/// Times SGEMM, as the machine-limit reference for the model benchmarks (or, with `--precision bf16`,
/// the bfloat16 GEMM).
struct GEMMBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Time square GEMM (C = A·B) through ConvNet's GEMM, in fp32 (SGEMM) or bf16, and print GFLOP/s.")

    @Option(help: "Matrix size n (n x n times n x n).") var size = 1024
    @Option(help: "Timed repetitions after one warm-up call.") var repeats = 20
    @OptionGroup var computeOptions: ComputeOptions
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard size > 0 else { throw ValidationError("--size must be positive, got \(size)") }
        guard repeats > 0 else { throw ValidationError("--repeats must be positive, got \(repeats)") }
    }

    func run() throws {
        computeOptions.apply()
        let precision = ComputePrecision.effective
        let (median, best) = SGEMMTiming.measure(size: size, repeats: repeats, precision: precision)
        let backend = precision == .bfloat16 ? ((try? ComputePrecision.bfloat16Support.get()) ?? "") : GEMM.backendDescription
        if json {
            print("{\"size\":\(size),\"precision\":\"\(precision.rawValue)\",\"median_gflops\":\(median),\"best_gflops\":\(best),\"backend\":\"\(backend)\",\"threads\":\(Parallel.threads)}")
        } else {
            print("\(precision == .bfloat16 ? "bf16 GEMM" : "SGEMM") \(size)^3 via \(backend), \(Parallel.threads) threads")
            print(String(format: "median %.1f GFLOP/s, best %.1f GFLOP/s over %d runs", median, best, repeats))
        }
    }
}
