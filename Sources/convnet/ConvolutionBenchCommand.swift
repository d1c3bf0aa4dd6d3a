import ArgumentParser
import ConvNet
import Foundation

/// `convnet bench conv`: one convolution layer's forward and backward pass, timed through the fast
/// kernels a model's `Conv2D` uses (`ConvolutionFast`, which hands 3x3 stride-1 layers to
/// `ConvolutionWinograd` and small layers' forward pass to `ConvolutionDirect`). For comparing two builds of ConvNet layer by layer, where a whole model's
/// throughput hides a change in one layer: run both binaries alternately on the layer's shape.
struct ConvolutionBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "Time one convolution layer's forward and backward pass and print milliseconds.",
        discussion: """
            Examples:
              convnet bench conv --input 128x32x32x16 --filters 16
              convnet bench conv --input 64x22x22x32 --filters 64 --kernel-size 7 --padding valid
            """)

    @Option(help: ArgumentHelp("The input (m, n_H, n_W, n_C_prev).", valueName: "MxHxWxC")) var input: String
    @Option(help: "Filters n_C: the output channels.") var filters: Int
    @Option(help: "Kernel size f (f x f).") var kernelSize = 3
    @Option(help: "Stride s (both directions).") var stride = 1
    @Option(help: ArgumentHelp("Padding.", valueName: "same|valid")) var padding = "same"
    @Option(help: "Timed calls of each pass after one warm-up call; the median and the best are reported.") var repeats = 10
    @OptionGroup var computeOptions: ComputeOptions
    @Flag(help: "Print one JSON object.") var json = false

    /// Largest size of any one dimension or option, so that no window arithmetic can overflow.
    private static let largestSize = 1 << 20

    /// `--input` as four sizes in `1...largestSize`, or nil.
    private var inputShape: [Int]? {
        let parts = input.split(separator: "x", omittingEmptySubsequences: false)
        let sizes = parts.compactMap { Int($0) }.filter { (1...Self.largestSize).contains($0) }
        return parts.count == 4 && sizes.count == 4 ? sizes : nil
    }

    func validate() throws {
        let range = 1...Self.largestSize
        guard inputShape != nil else {
            throw ValidationError("--input must be four sizes MxHxWxC from 1 to \(Self.largestSize), e.g. 128x32x32x16, got '\(input)'")
        }
        guard range.contains(filters) else { throw ValidationError("--filters must be from 1 to \(Self.largestSize), got \(filters)") }
        guard range.contains(kernelSize) else { throw ValidationError("--kernel-size must be from 1 to \(Self.largestSize), got \(kernelSize)") }
        guard range.contains(stride) else { throw ValidationError("--stride must be from 1 to \(Self.largestSize), got \(stride)") }
        guard ["same", "valid"].contains(padding) else { throw ValidationError("--padding must be same or valid, got '\(padding)'") }
        guard repeats > 0 else { throw ValidationError("--repeats must be positive, got \(repeats)") }
    }

    func run() throws {
        computeOptions.apply()
        guard let inputShape else { throw ValidationError("--input must be four sizes MxHxWxC") }
        let shape: ConvolutionShape
        do {
            shape = try ConvolutionShape(input: inputShape, kernel: [kernelSize, kernelSize, inputShape[3], filters], bias: [filters],
                                         strides: (stride, stride), padding: padding == "same" ? .same : .valid, dilation: (1, 1))
            // The tensors the passes hold at once must fit in memory (one line, not a crash): the
            // input and its gradient, the output and the upstream gradient, the kernel and its gradient.
            let input = try AllocationLimit.elementCount(shape.inputShape, elementSize: MemoryLayout<Float>.size, "the layer's input")
            let output = try AllocationLimit.elementCount(shape.outputShape, elementSize: MemoryLayout<Float>.size, "the layer's output")
            let kernel = try AllocationLimit.elementCount(shape.kernelShape, elementSize: MemoryLayout<Float>.size, "the layer's kernel")
            _ = try AllocationLimit.elementCount([2, input + output + kernel], elementSize: MemoryLayout<Float>.size,
                                                 "the layer's tensors and gradients together")
        } catch {
            throw ValidationError("--input \(input) with --filters \(filters) --kernel-size \(kernelSize) --stride \(stride) --padding \(padding) is not a convolution this machine can run: \(error)")
        }
        var generator = RandomGenerator(seed: 7)
        let x = Tensor.randomUniform(shape: shape.inputShape, low: -1, high: 1, generator: &generator).scalars
        let w = Tensor.randomUniform(shape: shape.kernelShape, low: -0.1, high: 0.1, generator: &generator).scalars
        let b = [Float](repeating: 0.01, count: filters)
        let dy = Tensor.randomUniform(shape: shape.outputShape, low: -1, high: 1, generator: &generator).scalars
        let forward = CallTiming.measure(repeats: repeats) { _ = ConvolutionFast.forward(input: x, kernel: w, bias: b, shape: shape) }
        let backward = CallTiming.measure(repeats: repeats) { _ = ConvolutionFast.backward(input: x, kernel: w, upstream: dy, shape: shape) }
        // "direct": the forward pass runs ConvolutionDirect, the backward passes im2col + GEMM.
        let algorithm = ConvolutionWinograd.applies(to: shape) ? "winograd" : ConvolutionDirect.applies(to: shape) ? "direct" : "im2col"
        let output = shape.outputShape.map(String.init).joined(separator: "x")
        if json {
            print(String(format: "{\"input\":\"%@\",\"output\":\"%@\",\"kernel_size\":%d,\"stride\":%d,\"algorithm\":\"%@\",\"threads\":%d,\"forward_ms\":%.3f,\"forward_best_ms\":%.3f,\"backward_ms\":%.3f,\"backward_best_ms\":%.3f}",
                         input, output, kernelSize, stride, algorithm, Parallel.threads,
                         forward.median * 1000, forward.best * 1000, backward.median * 1000, backward.best * 1000))
        } else {
            print("conv \(kernelSize)x\(kernelSize)/\(stride) \(padding) \(input) -> \(output) (\(algorithm)), \(Parallel.threads) threads, \(repeats) calls each")
            print(String(format: "forward  median %.2f ms, best %.2f ms", forward.median * 1000, forward.best * 1000))
            print(String(format: "backward median %.2f ms, best %.2f ms (input, kernel and bias gradients)", backward.median * 1000, backward.best * 1000))
        }
    }
}
