import ArgumentParser
import ConvNet
import Foundation

/// `mpirun -np N convnet bench allreduce --model M`: the time of one gradient all-reduce of model M
/// (its trainable weights in one fused buffer, as `GradientAllReduce` does every step) over the
/// transport mpirun chose, and a check of the sums against known values.
///
/// Rank `r` fills element `i` with `(r + 1) · (i mod 7 + 1)`; after the all-reduce every element
/// must be `(i mod 7 + 1) · N(N + 1)/2`, exactly (small integers are exact in `Float`). Any other
/// value fails the command, naming the rank, element and value.
struct AllReduceBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "Time and check the gradient all-reduce of a model over the processes mpirun started.",
        discussion: """
        Examples (as root add OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1):
          mpirun -np 2 --mca btl self,vader convnet bench allreduce --model resnet20
          mpirun -np 2 --mca btl self,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo convnet bench allreduce --model lenet5
        """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Floats to reduce instead of a model's parameter count.") var floats: Int?
    @Option(help: "Timed all-reduces, after --warmup-calls untimed ones (names unlike `bench`'s --steps, which the parent command would take).") var calls = 50
    @Option(help: "Untimed all-reduces first.") var warmupCalls = 5
    @Flag(help: "Print one JSON object (rank 0).") var json = false

    func validate() throws {
        guard calls > 0 else { throw ValidationError("--calls must be positive, got \(calls)") }
        guard warmupCalls >= 0 else { throw ValidationError("--warmup-calls must not be negative, got \(warmupCalls)") }
        if let floats, floats <= 0 { throw ValidationError("--floats must be positive, got \(floats)") }
    }

    func run() throws {
        guard let group = try DistributedRun.start(threads: nil) else {
            throw ValidationError("bench allreduce measures several processes: start it with mpirun -np N")
        }
        let count = try floats ?? ModelZoo.model(named: modelOptions.required("a zoo model (or --floats N)"), seed: 0).parameterCounts.trainable
        let (rank, size) = (group.rank, group.size)
        var buffer = [Float](repeating: 0, count: count)
        func fill() { for i in buffer.indices { buffer[i] = Float(rank + 1) * Float(i % 7 + 1) } }
        fill()
        try group.allReduceSum(&buffer)
        let triangle = Float(size * (size + 1) / 2)
        if let wrong = buffer.indices.first(where: { buffer[$0] != Float($0 % 7 + 1) * triangle }) {
            throw ConvNetError.numeric("bench allreduce: rank \(rank) got \(buffer[wrong]) at element \(wrong), expected \(Float(wrong % 7 + 1) * triangle)")
        }
        for _ in 0..<warmupCalls { try group.allReduceSum(&buffer) }
        try group.barrier()
        var seconds: [Double] = []
        for _ in 0..<calls {
            fill()
            let start = DispatchTime.now().uptimeNanoseconds
            try group.allReduceSum(&buffer)
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        // Each rank's median; the job's figure is the slowest rank's.
        var medians = (0..<size).map { $0 == rank ? seconds.sorted()[seconds.count / 2] : 0 }
        try group.allReduceSum(&medians)
        let median = [medians.max() ?? 0]
        if group.isRoot {
            let megabytes = Double(count * 4) / 1e6
            if json {
                print("{\"ranks\":\(size),\"floats\":\(count),\"median_seconds\":\(median[0]),\"verified\":true}")
            } else {
                print(String(format: "all-reduce of %d floats (%.2f MB) over %d ranks: median %.3f ms per call (slowest rank, %d calls); sums verified",
                             count, megabytes, size, median[0] * 1e3, calls))
            }
        }
        try DistributedRun.finish()
    }
}
