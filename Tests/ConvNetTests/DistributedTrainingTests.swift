import ConvNet
import Foundation
import Testing

/// Data-parallel training under Open MPI's `mpirun`, end to end: `convnet` processes started by
/// `mpirun` as child processes. Skipped, with the reason printed, where `mpirun` is missing or
/// `convnet` was built without Open MPI; CI installs Open MPI (`make setup`), so they run there.
@Suite(.serialized) struct DistributedTrainingTests {
    /// Why the suite cannot run here, if it cannot.
    static let skipReason: String? = {
        guard let mpirun = mpirunPath else { return "mpirun not found (apt-get install openmpi-bin libopenmpi-dev)" }
        // Only a build without MPI is a reason to skip; any other failure of this probe fails the tests below.
        if let probe = try? Self.mpirun(1, ["bench", "allreduce", "--floats", "1", "--calls", "1"]), probe.error.contains("built without Open MPI") {
            return "convnet was built without Open MPI (pkg-config did not find ompi-c; CONVNET_MPI=1 insists) — \(mpirun) unused"
        }
        return nil
    }()

    static let mpirunPath: String? = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static var available: Bool {
        if let skipReason { print("DistributedTrainingTests skipped: \(skipReason)") }
        return skipReason == nil
    }

    /// Shared memory (one machine), or TCP over the loopback interface (the multi-machine path).
    enum Transport { case sharedMemory, tcpLoopback }

    /// `mpirun -np ranks convnet arguments` (as root, with Open MPI's consent variables); `more`
    /// adds further `: -np 1 convnet ...` application contexts (MPMD: other arguments per rank).
    static func mpirun(_ ranks: Int, _ arguments: [String], more: [[String]] = [], transport: Transport = .sharedMemory,
                       directory: URL? = nil) throws -> CommandLineTests.Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mpirunPath ?? "mpirun")
        let mca = transport == .sharedMemory ? ["--mca", "btl", "self,vader"]
            : ["--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo"]
        var argv = ["--oversubscribe"] + mca + ["-np", String(ranks), CommandLineTests.binary] + arguments
        for context in more { argv += [":", "-np", "1", CommandLineTests.binary] + context }
        process.arguments = argv
        process.environment = ProcessInfo.processInfo.environment.merging([
            "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "CONVNET_DATASET_MIRROR": "http://127.0.0.1:9",
        ]) { $1 }
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile(), error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandLineTests.Run(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                                    error: String(decoding: error, as: UTF8.self))
    }

    /// `max |a − b| / max |a|` over every weight of two model files, both maxima over the whole
    /// model (a convolution's bias before batch normalization has no gradient and stays at rounding
    /// noise, which per tensor would be "100% different").
    static func relativeDifference(_ a: String, _ b: String) throws -> Float {
        let first = try Model.load(from: a).namedWeights, second = try Model.load(from: b).namedWeights
        #expect(first.map(\.path) == second.map(\.path))
        let scale = max(first.map { $0.value.scalars.map(abs).max() ?? 0 }.max() ?? 0, 1e-12)
        let differences = zip(first, second).map { x, y in (x.path, maxDifference(x.value.scalars, y.value.scalars) / scale) }
        let worst = differences.max { $0.1 < $1.1 }
        if let worst, worst.1 > 0 { print("\(a) against \(b): largest relative difference \(worst.1) in \(worst.0)") }
        return worst?.1 ?? 0
    }

    static let fashion = ["--dataset", "fashion-mnist", "--no-download"]

    @Test func allReduceOfKnownValuesOverTwoAndFourRanks() throws {
        guard Self.available else { return }
        for ranks in [2, 4] {  // 4 ranks on 2 cores: --oversubscribe
            let run = try Self.mpirun(ranks, ["bench", "allreduce", "--floats", "100003", "--calls", "3"])
            #expect(run.status == 0, "\(run.error)")
            #expect(run.output.contains("over \(ranks) ranks") && run.output.contains("sums verified"), "\(run.output)")
        }
    }

    @Test func allReduceAndTrainingOverTCPLoopback() throws {
        guard Self.available else { return }
        let reduce = try Self.mpirun(2, ["bench", "allreduce", "--model", "lenet5", "--calls", "3"], transport: .tcpLoopback)
        #expect(reduce.status == 0 && reduce.output.contains("sums verified"), "\(reduce.output) \(reduce.error)")
        let directory = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let tcp = directory.appendingPathComponent("tcp.h5").path, shm = directory.appendingPathComponent("shm.h5").path
        let train = ["train", "--model", "lenet5"] + Self.fashion + ["--limit", "256", "--batch-size", "16", "--epochs", "1", "--threads", "1", "--quiet"]
        let overTCP = try Self.mpirun(2, train + ["--save", tcp], transport: .tcpLoopback)
        let overSharedMemory = try Self.mpirun(2, train + ["--save", shm])
        #expect(overTCP.status == 0 && overSharedMemory.status == 0, "\(overTCP.error) \(overSharedMemory.error)")
        #expect(try Self.relativeDifference(shm, tcp) <= 1e-5)
    }

    /// One process with batch 2B against two with batch B: the same 32 steps, so the same weights
    /// up to the all-reduce's summation order; one process with batch B must differ (the test can fail).
    @Test func twoProcessesWithBatchBTrainAsOneWithBatch2B() throws {
        guard Self.available else { return }
        let directory = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        for optimizer in ["sgd", "adam"] {
            let common = ["train", "--model", "lenet5"] + Self.fashion + ["--limit", "512", "--epochs", "1", "--optimizer", optimizer,
                                                                            "--threads", "1", "--quiet", "--seed", "3"]
            let one = try CommandLineTests.run(common + ["--batch-size", "32", "--save", path("one-\(optimizer).h5")])
            let small = try CommandLineTests.run(common + ["--batch-size", "16", "--save", path("small-\(optimizer).h5")])
            let two = try Self.mpirun(2, common + ["--batch-size", "16", "--save", path("two-\(optimizer).h5")])
            #expect(one.status == 0 && small.status == 0 && two.status == 0, "\(one.error) \(small.error) \(two.error)")
            let difference = try Self.relativeDifference(path("one-\(optimizer).h5"), path("two-\(optimizer).h5"))
            #expect(difference <= 1e-4, "\(optimizer): 1 x 32 against 2 x 16 differ by \(difference)")
            #expect(try Self.relativeDifference(path("one-\(optimizer).h5"), path("small-\(optimizer).h5")) > 1e-3)
        }
    }

    /// With batch normalization: equal with --sync-batchnorm, different with per-rank statistics.
    /// The model: conv 8@3x3, batch normalization, ReLU, max pool, conv 8@3x3, batch normalization,
    /// ReLU, global average pool, dense 10 (28x28x1), written with the library.
    @Test func synchronisedBatchNormalizationTrainsAsOneProcess() throws {
        guard Self.available else { return }
        let directory = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        let model = try Model(inputShape: [28, 28, 1]) {
            Conv2D(8, kernelSize: 3, padding: .same)
            BatchNormalization()
            Activation(.relu)
            MaxPooling2D(poolSize: 2)
            Conv2D(8, kernelSize: 3, padding: .same)
            BatchNormalization()
            Activation(.relu)
            GlobalAveragePooling2D()
            Dense(10, activation: .softmax)
        }
        try model.save(to: path("initial.h5"))
        let common = ["train", "--model", path("initial.h5")] + Self.fashion + ["--limit", "512", "--epochs", "1", "--optimizer", "sgd",
                                                                                 "--lr", "0.1", "--threads", "1", "--quiet"]
        let one = try CommandLineTests.run(common + ["--batch-size", "16", "--save", path("one.h5")])
        let synced = try Self.mpirun(2, common + ["--batch-size", "8", "--sync-batchnorm", "--save", path("synced.h5")])
        let perRank = try Self.mpirun(2, common + ["--batch-size", "8", "--save", path("per-rank.h5")])
        #expect(one.status == 0 && synced.status == 0 && perRank.status == 0, "\(one.error) \(synced.error) \(perRank.error)")
        let difference = try Self.relativeDifference(path("one.h5"), path("synced.h5"))
        #expect(difference <= 1e-4, "1 x 16 against 2 x 8 with --sync-batchnorm differ by \(difference)")
        #expect(try Self.relativeDifference(path("one.h5"), path("per-rank.h5")) > 1e-3)
    }

    /// Two epochs in one go against one epoch, then a resumed second: the same weights, bit for bit.
    @Test func resumedRunContinuesIdentically() throws {
        guard Self.available else { return }
        let directory = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        let common = ["train", "--model", "lenet5"] + Self.fashion + ["--limit", "200", "--batch-size", "16", "--threads", "1", "--quiet"]
        let whole = try Self.mpirun(2, common + ["--epochs", "2", "--save", path("whole.h5")])
        let first = try Self.mpirun(2, common + ["--epochs", "1", "--checkpoint", path("ck.h5")])
        let resumed = try Self.mpirun(2, common + ["--epochs", "2", "--resume", path("ck.h5"), "--save", path("resumed.h5")])
        #expect(whole.status == 0 && first.status == 0 && resumed.status == 0, "\(whole.error) \(first.error) \(resumed.error)")
        #expect(try Self.relativeDifference(path("whole.h5"), path("resumed.h5")) == 0)
    }

    /// Rank 1 is given its own output paths (an MPMD launch): none of them may appear, while rank 0's do.
    @Test func onlyRankZeroWritesFiles() throws {
        guard Self.available else { return }
        let directory = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let outputs = { (prefix: String) in
            ["--save", "\(prefix).h5", "--log", "\(prefix).csv", "--plot", "\(prefix).svg", "--checkpoint", "\(prefix)-ck.h5"]
        }
        let common = ["train", "--model", "lenet5"] + Self.fashion + ["--limit", "128", "--batch-size", "16", "--epochs", "1", "--threads", "1"]
        let run = try Self.mpirun(1, common + outputs("rank0"), more: [common + outputs("rank1")], directory: directory)
        #expect(run.status == 0, "\(run.error)")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(files == ["rank0-ck.h5", "rank0.csv", "rank0.h5", "rank0.svg"])
        #expect(run.output.components(separatedBy: "Epoch 1/1").count == 2, "one progress report, rank 0's: \(run.output)")
    }

    /// A corrupt image in a folder decoded batch by batch: the rank that meets it fails, `mpirun`
    /// exits non-zero with that rank's error, and no model file (or temporary file) is left.
    @Test func aFailingRankEndsTheJobWithItsError() throws {
        guard Self.available else { return }
        let directory = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let images = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/images")
        let data = directory.appendingPathComponent("data")
        for (index, name) in ["ankle-boot", "bag", "sneaker", "trouser"].enumerated() {
            let folder = data.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for copy in 0..<8 {
                try FileManager.default.copyItem(at: images.appendingPathComponent("\(name).png"),
                                                 to: folder.appendingPathComponent("\(copy).png"))
            }
            if index == 2 { try Data("not a PNG".utf8).write(to: folder.appendingPathComponent("broken.png")) }
        }
        let output = directory.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let run = try Self.mpirun(2, ["train", "--model", "lenet5", "--dataset", data.path, "--stream-images", "--epochs", "2",
                                      "--batch-size", "4", "--threads", "1", "--save", output.appendingPathComponent("model.h5").path])
        #expect(run.status != 0)
        #expect(run.error.contains("broken.png"), "the failing rank's error: \(run.error)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).isEmpty)
    }

    /// PyTorch's DistributedSampler: shards disjoint, covering the data (with padding), new each epoch.
    @Test func shardsAreDisjointCoverTheDataAndChangeEveryEpoch() throws {
        for (count, replicas) in [(10, 2), (10, 4), (7, 3), (3, 4)] {
            var shuffler = RandomGenerator(seed: 5)
            var previous: [[Int]] = []
            for _ in 0..<3 {
                var order = Array(0..<count)
                order.shuffle(using: &shuffler)
                let shards = try (0..<replicas).map { try DistributedSampler(count: count, replicas: replicas, rank: $0).shard(of: order) }
                let samplesPerReplica = (count + replicas - 1) / replicas
                #expect(shards.allSatisfy { $0.count == samplesPerReplica })
                let all = shards.flatMap { $0 }
                #expect(Set(all) == Set(0..<count), "every sample in some shard")
                // Repeats only for padding: exactly N·⌈count/N⌉ − count extra entries.
                #expect(all.count - Set(all).count == samplesPerReplica * replicas - count)
                if count % replicas == 0 { #expect(Set(shards[0]).isDisjoint(with: Set(shards[1]))) }
                // Step k's union over ranks is one process's batch k of size N·B (B = 1 here).
                #expect((0..<samplesPerReplica).flatMap { k in shards.map { $0[k] } } == Array((order + order + order + order).prefix(samplesPerReplica * replicas)))
                if count >= 7 { #expect(shards != previous, "a new shard every epoch") }  // 3 samples have only 6 orders
                previous = shards
            }
        }
        #expect(throws: ConvNetError.self) { try DistributedSampler(count: 4, replicas: 2, rank: 2) }
    }
}

/// The library API of data-parallel training in one process: with a group of one, `fit` with
/// `dataParallel` must give exactly the weights of `fit` without it, and the README's own-loop
/// example (written against `SingleProcessGroup`) must run.
@Suite struct DataParallelLibraryTests {
    static func model() throws -> Model {
        var model = try Model(inputShape: [6, 6, 1]) {
            Conv2D(3, kernelSize: 3, padding: .same)
            BatchNormalization()
            Activation(.relu)
            Flatten()
            Dense(2, activation: .softmax)
        }
        model.compile(optimizer: Adam(learningRate: 0.01), loss: .sparseCategoricalCrossentropy(), metrics: [.accuracy])
        return model
    }

    static func data() throws -> TensorDataset {
        var generator = RandomGenerator(seed: 9)
        let x = Tensor.randomUniform(shape: [40, 6, 6, 1], generator: &generator)
        return try TensorDataset(inputs: x, labels: (0..<40).map { $0 % 2 }, classNames: ["a", "b"])
    }

    @Test func aGroupOfOneTrainsExactlyAsNoGroup() throws {
        var plain = try Self.model(), grouped = try Self.model()
        let train = try Self.data()
        let history = try plain.fit(train, epochs: 2, batchSize: 8, validationData: train, verbosity: .silent)
        let groupedHistory = try grouped.fit(train, epochs: 2, batchSize: 8, validationData: train, verbosity: .silent,
                                             dataParallel: DataParallel(SingleProcessGroup(), synchronizeBatchNormalization: true))
        #expect(plain.namedWeights.map(\.value) == grouped.namedWeights.map(\.value))
        #expect(history.epochs == groupedHistory.epochs)
    }

    @Test func readmeOwnLoopExampleRuns() throws {
        let group = SingleProcessGroup()
        let model = try Self.model(), train = try Self.data()
        var trainer = try Trainer(model: model, callbacks: [GradientAllReduce(group), GradientClipping(.globalNorm(1))])
        trainer.context.batchNormalizationGroup = group
        var order = Array(0..<train.count)
        var shuffler = RandomGenerator(seed: 1)
        order.shuffle(using: &shuffler)
        let mine = try DistributedSampler(count: train.count, replicas: group.size, rank: group.rank).shard(of: order)
        let batch = try train.batch(at: Array(mine.prefix(32)), seed: 0)
        let (loss, _) = try trainer.step(batch)
        #expect(loss.isFinite && mine == order)
        #expect(trainer.model.namedWeights.map(\.value) != model.namedWeights.map(\.value))
    }

    /// Goyal et al.'s warm-up: the multiplier rises linearly from 1 to k over the warm-up steps.
    @Test func linearScalingWarmsUp() {
        let scaling = LinearLearningRateScaling(factor: 4, warmupSteps: 10)
        #expect(scaling.multiplier(atStep: 0) == 1)
        #expect(scaling.multiplier(atStep: 5) == 2.5)
        #expect(scaling.multiplier(atStep: 10) == 4 && scaling.multiplier(atStep: 50) == 4)
        #expect(LinearLearningRateScaling(factor: 4).multiplier(atStep: 0) == 4)
    }
}
