import Dispatch
import Foundation
import Synchronization

/// Splits ConvNet's loops, GEMM included, across the CPU's cores.
///
/// Every parallel region runs on one pool: the calling thread plus `threads − 1` workers. BLAS is
/// made single-threaded (see `OpenBLAS`) and called from inside these regions, so exactly
/// `threads` threads compute and no thread waits on another library's pool. The workers start with
/// the first region that uses them and live as long as the process; idle, they poll for 2 ms and
/// then sleep.
///
/// Results never depend on timing: work is split by `chunks`, a function of the sizes and `threads`
/// only, every task writes its own outputs, and kernels that reduce per-task partial results add
/// them in task order.
///
/// Concurrent callers: ConvNet may be called from several threads at once (separate models, or
/// `predict` on one model from several threads). The pool serves one region at a time; a region
/// started while another one runs, whether nested inside a task or from a second thread, runs all
/// of its tasks on its calling thread, in order. Its results are bit-identical to a parallel run
/// (same split, same order of additions), it is only slower. Changing `threads` while regions run
/// is safe but makes results differ in the last bits from runs with the old count.
public enum Parallel {
    private static let configuredThreads = Atomic<Int>(0)

    /// The number of threads kernels use: `setThreads`'s value, else the number of active cores
    /// (the default of a library that exists to use the CPU; `ConvNetRuntime.configure(_:)` with
    /// `threads`, or `setThreads`, lowers it for hosts that share their cores).
    public static var threads: Int {
        let configured = configuredThreads.load(ordering: .relaxed)
        return configured > 0 ? configured : activeCores
    }

    /// The active cores, read once: on Linux `activeProcessorCount` reads the cgroup's CPU quota
    /// and cpuset files on every call, which cost a small model 4% of its training step when
    /// every parallel region asked (perf, LeNet-5 at batch 64).
    private static let activeCores = ProcessInfo.processInfo.activeProcessorCount

    /// Uses `count` threads (at least 1) for ConvNet's kernels (BLAS included). Affects only
    /// ConvNet, not the process; `ConvNetRuntime.configure` calls it for its `threads` option.
    public static func setThreads(_ count: Int) {
        configuredThreads.store(max(1, count), ordering: .relaxed)
    }

    /// Work below this many operations runs on the calling thread: a hand-off costs about a
    /// microsecond to a spinning worker, tens to a sleeping one.
    static let minimumParallelWork = 32_768

    /// `0..<count` split into at most `threads` contiguous ranges of nearly equal length, or one
    /// range when `count · costPerItem` is below `minimumWork`.
    static func chunks(_ count: Int, costPerItem: Int = 1, minimumWork: Int = minimumParallelWork) -> [Range<Int>] {
        let parts = count * costPerItem >= minimumWork ? min(threads, count) : min(1, count)
        return (0..<parts).map { count * $0 / parts..<count * ($0 + 1) / parts }
    }

    /// Runs `body(task)` for every `task` in `0..<tasks`, spread over the pool; returns when all
    /// have finished.
    static func run(tasks: Int, _ body: @Sendable (Int) -> Void) {
        guard tasks > 1, threads > 1 else {
            for task in 0..<tasks { body(task) }
            return
        }
        // A scoped precision (`ComputePrecision.with`) is the caller's: the workers run under it too.
        guard let precision = ComputePrecision.scoped else {
            return WorkerPool.shared.run(tasks: tasks, workers: threads - 1, body)
        }
        WorkerPool.shared.run(tasks: tasks, workers: threads - 1) { task in
            ComputePrecision.$scoped.withValue(precision) { body(task) }
        }
    }

    /// Runs `body(range)` over `0..<count` split by `chunks(count, costPerItem:)`, in parallel.
    public static func forEachChunk(_ count: Int, costPerItem: Int = 1, _ body: @Sendable (Range<Int>) -> Void) {
        let ranges = chunks(count, costPerItem: costPerItem)
        run(tasks: ranges.count) { body(ranges[$0]) }
    }
}

/// The threads behind `Parallel.run`: a fork-join pool whose caller takes part.
///
/// A region is published through `gate`, one atomic word holding the region's number, an "open"
/// bit and the count of workers that entered. A worker may read the job only after entering with
/// a compare-and-swap while the gate is open; the caller claims tasks alongside the workers, closes
/// the gate when none are left, and waits only for the workers that entered. A worker that was
/// descheduled therefore never delays a region it did not join.
///
/// Idle workers poll for `spinNanoseconds` (regions in a training step follow each other within
/// microseconds), then sleep on a semaphore that the next region signals. Polling threads yield
/// the core after `yieldAfterNanoseconds`, so that on a busy machine a poller sharing a core with
/// the thread it waits for does not hold that thread off for a whole time slice.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// How long an idle worker polls for the next region before sleeping.
    static let spinNanoseconds: UInt64 = 2_000_000
    /// How long a poller spins before it starts yielding the core between polls.
    static let yieldAfterNanoseconds: UInt64 = 50_000
    private static let openBit = 1 << 20, enteredMask = (1 << 20) - 1, generationShift = 21

    // The job: written by the caller before it opens the gate, read by workers that entered.
    private var job: (@Sendable (Int) -> Void)?
    private var taskCount = 0
    private var generation = 0
    private var participatingWorkers = 0

    private let gate = Atomic<Int>(0)
    private let nextTask = Atomic<Int>(0)
    private let exited = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let wakeUp = DispatchSemaphore(value: 0)
    private let spawned = Locked<Int>(0)

    func run(tasks: Int, workers: Int, _ body: @Sendable (Int) -> Void) {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for task in 0..<tasks { body(task) }  // nested or concurrent region: run it here
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        spawnWorkers(upTo: workers)
        withoutActuallyEscaping(body) { body in
            job = body
            taskCount = tasks
            participatingWorkers = workers
            generation += 1
            nextTask.store(0, ordering: .relaxed)
            exited.store(0, ordering: .relaxed)
            gate.store(generation << Self.generationShift | Self.openBit, ordering: .sequentiallyConsistent)
            let sleeping = sleepers.load(ordering: .sequentiallyConsistent)
            for _ in 0..<sleeping { wakeUp.signal() }

            runTasks()
            let entered = gate.bitwiseAnd(~Self.openBit, ordering: .acquiringAndReleasing).oldValue & Self.enteredMask
            var poller = Poller()
            while exited.load(ordering: .acquiring) < entered { poller.pause() }
            job = nil
        }
    }

    /// Claims and runs tasks until none are left.
    private func runTasks() {
        while true {
            let task = nextTask.wrappingAdd(1, ordering: .relaxed).oldValue
            guard task < taskCount, let job else { return }
            job(task)
        }
    }

    private func spawnWorkers(upTo count: Int) {
        spawned.withLock { spawned in
            while spawned < count {
                let index = spawned
                let thread = Thread { [self] in workerLoop(index: index) }
                thread.name = "ConvNet worker \(index + 1)"
                thread.start()
                spawned += 1
            }
        }
    }

    private func workerLoop(index: Int) -> Never {
        var seen = 0
        while true {
            var state = waitForRegion(after: seen)
            seen = state >> Self.generationShift
            while state & Self.openBit != 0, state >> Self.generationShift == seen {
                let (entered, current) = gate.compareExchange(expected: state, desired: state + 1, ordering: .acquiring)
                if entered {
                    if index < participatingWorkers { runTasks() }
                    exited.add(1, ordering: .releasing)
                    break
                }
                state = current  // another worker entered first, or the region closed: look again
            }
        }
    }

    /// Polls the gate until it shows a region newer than `seen`, sleeping after `spinNanoseconds`.
    private func waitForRegion(after seen: Int) -> Int {
        var poller = Poller()
        while true {
            let state = gate.load(ordering: .acquiring)
            if state >> Self.generationShift != seen { return state }
            guard poller.pause() > Self.spinNanoseconds else { continue }
            sleepers.add(1, ordering: .sequentiallyConsistent)
            if gate.load(ordering: .sequentiallyConsistent) >> Self.generationShift == seen { wakeUp.wait() }
            sleepers.subtract(1, ordering: .sequentiallyConsistent)
            poller = Poller()
        }
    }
}

/// The pause between two polls of an atomic: none at first, then `sched_yield` once
/// `WorkerPool.yieldAfterNanoseconds` have passed. The clock is read every 256 polls.
private struct Poller {
    private let start = DispatchTime.now().uptimeNanoseconds
    private var polls = 0
    private var elapsed: UInt64 = 0

    /// Pauses and returns the nanoseconds since polling began (as of the last clock reading).
    @discardableResult
    mutating func pause() -> UInt64 {
        polls += 1
        if polls % 256 == 0 { elapsed = DispatchTime.now().uptimeNanoseconds - start }
        if elapsed > WorkerPool.yieldAfterNanoseconds { sched_yield() }
        return elapsed
    }
}
