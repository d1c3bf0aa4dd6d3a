import ArgumentParser
import ConvNet
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure performance.",
        subcommands: [GEMMBenchCommand.self])
}

/// Times SGEMM through the library's one GEMM entry point, as the machine-limit reference for the
/// model benchmarks.
struct GEMMBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Time square SGEMM (C = A·B) through ConvNet's GEMM and print GFLOP/s.")

    @Option(help: "Matrix size n (n x n times n x n).") var size = 1024
    @Option(help: "Timed repetitions after one warm-up call.") var repeats = 20
    @Option(help: "Threads for BLAS (default: all cores).") var threads: Int?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        guard size > 0, repeats > 0 else { throw ValidationError("--size and --repeats must be positive") }
        if let threads {
            guard threads > 0 else { throw ValidationError("--threads must be positive, got \(threads)") }
            Parallel.setThreads(threads)
        }
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
        multiply()
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            multiply()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        times.sort()
        let flops = 2 * pow(Double(size), 3)
        let median = times[times.count / 2], best = times[0]
        if json {
            print("{\"size\":\(size),\"median_gflops\":\(flops / median / 1e9),\"best_gflops\":\(flops / best / 1e9),\"backend\":\"\(GEMM.backendDescription)\",\"threads\":\(Parallel.threads)}")
        } else {
            print("SGEMM \(size)^3 via \(GEMM.backendDescription), \(Parallel.threads) threads")
            print(String(format: "median %.1f GFLOP/s, best %.1f GFLOP/s over %d runs", flops / median / 1e9, flops / best / 1e9, repeats))
        }
    }
}
