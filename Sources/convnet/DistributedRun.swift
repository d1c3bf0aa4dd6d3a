import ArgumentParser
import ConvNet
import Foundation
#if CONVNET_MPI
import ConvNetDistributed
#endif

/// `mpirun -np N convnet train ...`: the command line's side of data-parallel training. A process
/// started by Open MPI's `mpirun` joins the job's process group (`MPI_Init`), lowers its thread count
/// so that the ranks on one machine share its cores, and, when the command fails, ends the whole job
/// instead of leaving the other ranks waiting in a collective.
enum DistributedRun {
    /// Whether `mpirun` started this process (Open MPI names the job's size in the environment).
    static var launchedByMPIRun: Bool { ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil }

    nonisolated(unsafe) private static var started: (any ProcessGroup)?

    /// The job's process group when `mpirun` started this process (nil otherwise), with the thread
    /// count set to cores / ranks on this machine (`OMPI_COMM_WORLD_LOCAL_SIZE`) unless `threads` is
    /// given. Throws when launched by `mpirun` but built without MPI.
    static func start(threads: Int?) throws -> (any ProcessGroup)? {
        guard launchedByMPIRun else { return nil }
        #if CONVNET_MPI
        let group = try MPIProcessGroup.world()
        started = group
        if threads == nil {
            Parallel.setThreads(max(1, ProcessInfo.processInfo.activeProcessorCount / MPIProcessGroup.localSize))
        }
        return group
        #else
        let size = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] ?? "?"
        throw ConvNetError.argument("mpirun started \(size) processes, but this convnet was built without Open MPI; install libopenmpi-dev (make setup) and rebuild, or build with CONVNET_MPI=1")
        #endif
    }

    /// After a successful command: waits for every rank (rank 0 may still be writing its files), then
    /// leaves MPI (`MPI_Finalize`), as `mpirun` expects of a process that exits normally.
    static func finish() throws {
        #if CONVNET_MPI
        guard let group = started as? MPIProcessGroup else { return }
        try group.barrier()
        try group.finalize()
        started = nil
        #endif
    }

    /// After a failure whose message is already printed: ends every rank of the job with `code`
    /// (`MPI_Abort`), so that `mpirun` exits non-zero at once. Returns when no job was started.
    static func abortJob(code: Int32) {
        #if CONVNET_MPI
        guard let group = started as? MPIProcessGroup else { return }
        FileHandle.standardError.write(Data("convnet: rank \(group.rank) of \(group.size) failed; ending the job\n".utf8))
        group.abort(code: code)
        #endif
    }
}

/// Learning-rate scaling for several processes, from `--scale-lr` and `--warmup-epochs`.
struct DistributedOptions: ParsableArguments {
    @Flag(help: "With mpirun -np N: normalise batch normalization with the statistics of all N ranks' batches (PyTorch SyncBatchNorm) instead of each rank's own.") var syncBatchnorm = false
    @Flag(help: "With mpirun -np N: multiply the learning rate by N (each step averages N batches), rising linearly from the unscaled rate over --warmup-epochs (Goyal et al. 2017).") var scaleLr = false
    @Option(help: ArgumentHelp("With --scale-lr: epochs over which the rate rises to N times its value (0: at once).", valueName: "K")) var warmupEpochs: Double = 5

    func validate() throws {
        guard warmupEpochs >= 0 else { throw ValidationError("--warmup-epochs must not be negative, got \(warmupEpochs)") }
        if (syncBatchnorm || scaleLr), !DistributedRun.launchedByMPIRun {
            throw ValidationError("\(syncBatchnorm ? "--sync-batchnorm" : "--scale-lr") applies to several processes: start convnet with mpirun -np N")
        }
    }

    /// The data-parallel settings for `group`, if any.
    func dataParallel(_ group: (any ProcessGroup)?) -> DataParallel? {
        group.map { DataParallel($0, synchronizeBatchNormalization: syncBatchnorm) }
    }

    /// The scaling callback and a line saying what it does (or that the rate is not scaled).
    func learningRateScaling(_ group: (any ProcessGroup)?, batchSize: Int, stepsPerEpoch: Int, learningRate: Float)
        -> (callback: (any Callback)?, notice: String?) {
        guard let group, group.size > 1 else { return (nil, nil) }
        let ranks = group.size
        let perStep = "\(ranks) processes x batch \(batchSize) = \(ranks * batchSize) samples per step"
        guard scaleLr else {
            return (nil, "Data parallel: \(perStep); learning rate \(learningRate) (not scaled; --scale-lr multiplies it by \(ranks))"
                + (syncBatchnorm ? "; synchronised batch normalization" : ""))
        }
        let warmupSteps = Int((warmupEpochs * Double(stepsPerEpoch)).rounded())
        let callback = LinearLearningRateScaling(factor: Float(ranks), warmupSteps: warmupSteps)
        let warmup = warmupSteps > 0 ? ", rising from \(learningRate) over \(warmupSteps) steps (\(warmupEpochs) epochs)" : ""
        return (callback, "Data parallel: \(perStep); learning rate \(learningRate) x \(ranks) = \(learningRate * Float(ranks))\(warmup) (--scale-lr)"
                + (syncBatchnorm ? "; synchronised batch normalization" : ""))
    }
}
