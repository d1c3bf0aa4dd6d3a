import ArgumentParser
import ConvNet
import Foundation

struct SpeedrunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "speedrun",
        abstract: "Train CIFAR-10 with Keller Jordan's airbench recipe (airbench94: 94% on the lossless images in 9.9 epochs).",
        discussion: """
        Examples:
          convnet speedrun --data /path/to/cifar10  # JPEG folders train/ and test/
          convnet speedrun --dataset cifar10        # the binary batches, downloaded
          convnet speedrun --data DIR --runs 5      # seeds 0-4: mean and std

        The network, optimizer, schedule, Lookahead, whitening initialisation and
        augmentation of github.com/KellerJordan/cifar10-airbench (legacy/airbench94.py,
        airbench95.py); see AirbenchRecipe. Prints each epoch's training time and
        test accuracy, then the test accuracy with test-time augmentation (six
        views), and saves the model. --epochs, --limit and --batch-size shorten a run
        for a quick check; they change the recipe.
        """)

    @Option(help: "A folder of CIFAR-10 images in class subfolders, with train/ and test/ inside (e.g. the JPEG copy).") var data: String?
    @Option(help: "cifar10 (the official binary batches, downloaded when missing), used when --data is not given.") var dataset = "cifar10"
    @Option(help: "Folder holding the cifar10 binary batches.") var dataDir: String?
    @Flag(help: "Never download the binary batches; fail with where to put them.") var noDownload = false
    @Option(help: "airbench94 (widths 64/256/256, 9.9 epochs) or airbench95 (128/384/384, 15 epochs).") var recipe = "airbench94"
    @Option(help: "Seed of the first run; run k uses seed + k.") var seed: UInt64 = 0
    @Option(help: "Number of runs (seeds seed, seed+1, ...).") var runs = 1
    @Option(help: "Train for this many epochs instead of the recipe's (a quick check).") var epochs: Double?
    @Option(help: "Samples per step instead of the recipe's 1024 (a quick check on few images).") var batchSize: Int?
    @Option(help: "Use only N training images (a class-balanced subset for folders, the first N for the binary batches).") var limit: Int?
    @Option(help: "Evaluate on N test images (a seeded random choice) instead of all.") var testLimit: Int?
    @Option(name: .shortAndLong, help: "Where to save the last run's model (Keras .h5 with the preprocessing and class names); default <recipe>.h5.") var output: String?
    @OptionGroup var computeOptions: ComputeOptions

    /// CIFAR-10's per-channel mean and standard deviation (of `x / 255`), as the reference normalises.
    static let cifarMean: [Float] = [0.4914, 0.4822, 0.4465]
    static let cifarStandardDeviation: [Float] = [0.2470, 0.2435, 0.2616]

    func validate() throws {
        guard AirbenchRecipe.all.contains(where: { $0.name == recipe }) else {
            throw ValidationError("--recipe \(recipe): expected \(AirbenchRecipe.all.map(\.name).joined(separator: " or "))")
        }
        guard runs > 0 else { throw ValidationError("--runs must be positive, got \(runs)") }
        if let epochs, !(epochs > 0 && epochs.isFinite) { throw ValidationError("--epochs must be positive, got \(epochs)") }
        if let batchSize, batchSize <= 0 { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive, got \(limit)") }
        if let testLimit, testLimit <= 0 { throw ValidationError("--test-limit must be positive, got \(testLimit)") }
        try OutputPath.check(output, flag: "--output")
    }

    func run() throws {
        computeOptions.apply()
        guard var recipe = AirbenchRecipe.all.first(where: { $0.name == self.recipe }) else { return }
        if let epochs { recipe.epochs = epochs }
        if let batchSize { recipe.batchSize = batchSize }
        var resolver = DatasetResolver(name: data ?? dataset, dataDirectory: dataDir, limit: limit, download: !noDownload)
        if data != nil { resolver.flag = "--data" }
        let splits = try resolver.load(imageSize: (32, 32), channels: 3)
        guard let testImages = splits.test else { throw ConvNetError.argument("--data \(splits.source): no test/ folder") }
        let preprocessing = Preprocessing.standardize(mean: Self.cifarMean.map { $0 * 255 },
                                                      standardDeviation: Self.cifarStandardDeviation.map { $0 * 255 })
        let train = try splits.train.augmented(with: [.alternatingFlip, .translation(maxShift: recipe.translation, fill: .mirror)])
            .preprocessed(preprocessing)
        var test: any Dataset = try testImages.preprocessed(preprocessing)
        if let testLimit, testLimit < test.count {
            var generator = RandomGenerator(seed: 0x7E57)
            test = DatasetSubset(test, indices: Array(Array(0..<test.count).shuffled(using: &generator).prefix(testLimit)).sorted())
        }
        let steps = recipe.steps(trainingSamples: train.count)
        guard steps.perEpoch > 0 else {
            throw ConvNetError.argument("--batch-size \(recipe.batchSize): \(train.count) training images make no full batch")
        }
        print("\(recipe.name) on \(train.count) training and \(test.count) test images from \(splits.source): "
              + "\(steps.total) steps of \(recipe.batchSize) (\(recipe.epochs) epochs); GEMM: \(GEMM.backendDescription)")
        var accuracies: [Double] = [], times: [Double] = []
        var model: Model?
        for run in 0..<runs {
            let seed = self.seed &+ UInt64(run)
            var network = try recipe.model(seed: seed)
            network.metadata = ModelMetadata(preprocessing: preprocessing, classNames: splits.train.classNames)
            var chooser = RandomGenerator(seed: seed ^ 0x3417_7E11)
            let chosen = Array(Array(0..<splits.train.count).shuffled(using: &chooser).prefix(recipe.whiteningSamples))
            let whitening = try splits.train.preprocessed(preprocessing).batch(at: chosen, seed: 0).inputs
            let result = try recipe.train(&network, on: train, whiteningImages: whitening, test: test, seed: seed) { epoch in
                print(String(format: "run %d (seed %llu) epoch %2d: %3d steps in %7.1f s (%.2f s/step, CPU %.2f s/step), last batch loss %.4f accuracy %.4f, test accuracy %.4f",
                             run + 1, seed, epoch.epoch, epoch.steps, epoch.seconds, epoch.seconds / Double(max(epoch.steps, 1)),
                             epoch.cpuSeconds / Double(max(epoch.steps, 1)),
                             epoch.trainLoss, epoch.trainAccuracy, epoch.testAccuracy ?? .nan))
                fflush(nil)
            }
            print(String(format: "run %d (seed %llu): training %.1f s (%.1f min), test accuracy %.4f, with test-time augmentation %.4f (%.1f s)",
                         run + 1, seed, result.trainingSeconds, result.trainingSeconds / 60, result.testAccuracy ?? .nan,
                         result.augmentedTestAccuracy ?? .nan, result.augmentedEvaluationSeconds))
            fflush(nil)
            accuracies.append(result.augmentedTestAccuracy ?? .nan)
            times.append(result.trainingSeconds)
            model = network
        }
        if runs > 1 {
            print(String(format: "%d runs: test accuracy with test-time augmentation %.4f ± %.4f (mean ± standard deviation), training %.1f ± %.1f s",
                         runs, Self.mean(accuracies), Self.standardDeviation(accuracies), Self.mean(times), Self.standardDeviation(times)))
        }
        if let model {
            let path = output ?? "\(recipe.name).h5"
            try model.save(to: path, metadata: model.metadata)
            print("Saved \(path)")
        }
    }

    static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(values.count, 1)) }

    /// The sample standard deviation (divisor `n − 1`, as torch.std), 0 for one value.
    static func standardDeviation(_ values: [Double]) -> Double {
        guard values.count > 1 else { return 0 }
        let m = mean(values)
        return (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot()
    }
}
