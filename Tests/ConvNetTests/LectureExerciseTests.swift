import ConvNet
import Foundation
import Testing

/// The lecture notes' exercises at model level, on small generated data: a one-unit sigmoid
/// classifier trained with binary cross-entropy (cat vs non-cat), a fully convolutional net trained
/// on outputs of shape (m, 1, 1, k) and read as a class map on a larger input (deck 002), dropout
/// added to a model that did not have it, and deck 002's hand-made feature extractor.
@Suite struct LectureExerciseTests {
    /// 256 points in 4-D; class 1 when x0 + x1 − x2 > 0.
    static func binaryData(seed: UInt64) throws -> TensorDataset {
        var generator = RandomGenerator(seed: seed)
        let inputs = Tensor.randomNormal(shape: [256, 4], generator: &generator)
        let x = inputs.scalars
        let labels: [Int] = (0..<256).map { row in
            let margin: Float = x[row * 4] + x[row * 4 + 1] - x[row * 4 + 2]
            return margin > 0 ? 1 : 0
        }
        return try TensorDataset(inputs: inputs, labels: labels, classNames: ["no", "yes"])
    }

    /// One sigmoid unit: the loss matching it is binary cross-entropy, it learns a linear rule, and
    /// the reported loss is −mean(y·log p + (1 − y)·log(1 − p)) of the model's own predictions.
    @Test func oneUnitSigmoidWithBinaryCrossEntropy() throws {
        var model = try Model(inputShape: [4], seed: 7) {
            Dense(8, activation: .relu)
            Dense(1, activation: .sigmoid)
        }
        #expect(Loss.matching(model) == .binaryCrossentropy())
        model.compile(optimizer: Adam(learningRate: 0.03), loss: .matching(model), metrics: [.accuracy])
        let data = try Self.binaryData(seed: 3)
        let before = try model.evaluate(data)
        // Untrained, many outputs are near 0.5: accuracy must threshold the probability, not the logit.
        let untrained = zip(predictedClasses(try model.predict(data.inputs)), data.labels).filter { $0 == $1 }.count
        #expect(abs(Double(untrained) / 256 - (before["accuracy"] ?? 0)) < 1e-9)
        let history = try model.fit(data, epochs: 30, batchSize: 32, seed: 1, verbosity: .silent)
        let after = try model.evaluate(data)
        #expect(after.loss < before.loss / 3, "loss \(before.loss) → \(after.loss)")
        #expect((after["accuracy"] ?? 0) > 0.95)
        #expect(history["loss"].count == 30)

        let probabilities = try model.predict(data.inputs)
        #expect(probabilities.shape == [256, 1])
        #expect(probabilities.scalars.allSatisfy { (0...1).contains($0) })  // Float saturates far from the boundary
        var total = 0.0
        for (p, y) in zip(probabilities.scalars, data.labels) {
            let q = Double(min(max(p, 1e-7), 1 - 1e-7))
            total -= y == 1 ? log(q) : log(1 - q)
        }
        #expect(abs(after.loss - total / 256) < 1e-4)
        let correct = zip(predictedClasses(probabilities), data.labels).filter { $0 == $1 }.count
        #expect(abs(Double(correct) / 256 - (after["accuracy"] ?? 0)) < 1e-9)
    }

    /// 8x8 gray images, class 0 bright on the left half, class 1 on the right, with noise.
    static func halves(count: Int, seed: UInt64) throws -> TensorDataset {
        var generator = RandomGenerator(seed: seed)
        var scalars: [Float] = [], labels: [Int] = []
        for index in 0..<count {
            let label = index % 2
            labels.append(label)
            for _ in 0..<8 {
                for column in 0..<8 { scalars.append(((column < 4) == (label == 0) ? 1 : 0) + 0.2 * generator.nextNormal()) }
            }
        }
        return try TensorDataset(inputs: Tensor(shape: [count, 8, 8, 1], scalars: scalars), labels: labels)
    }

    /// Deck 002's fully convolutional net in small: trained on (m, 1, 1, 2) outputs like a classifier,
    /// then given an image twice as wide, it answers with a 1x9 class map whose ends see the two halves.
    @Test func fullyConvolutionalNetTrainsAndMapsALargerInput() throws {
        var model = try Model(inputShape: [nil, nil, 1], seed: 5) {
            Conv2D(4, kernelSize: 3, padding: .same, activation: .relu)
            Conv2D(8, kernelSize: 8, activation: .relu)          // 8x8 → 1x1, the deck's 7x7 on 7x7
            Conv2D(2, kernelSize: 1, activation: .softmax)      // the 1x1 convolution that replaces Dense
        }
        model.compile(optimizer: Adam(learningRate: 0.01), loss: .sparseCategoricalCrossentropy(), metrics: [.accuracy])
        let train = try Self.halves(count: 64, seed: 1)
        #expect(try model.predict(train.inputs).shape == [64, 1, 1, 2])
        let before = try model.evaluate(train)
        try model.fit(train, epochs: 15, batchSize: 16, seed: 2, verbosity: .silent)
        let after = try model.evaluate(train)
        #expect(after.loss < before.loss / 4, "loss \(before.loss) → \(after.loss)")
        #expect((after["accuracy"] ?? 0) == 1)

        // The loss of the (m, 1, 1, k) output is that of the same scores as (m, k).
        let scores = try model.predict(train.inputs)
        let flat = try categoricalCrossEntropy(probabilities: scores.reshaped(to: [64, 2]), labels: train.labels)
        #expect(abs(Double(try #require(flat.scalar)) - after.loss) < 1e-5)

        // A class-0 image beside a class-1 image: 8x16 in, 1x9 map out.
        let test = try Self.halves(count: 2, seed: 9)
        var wide: [Float] = []
        for row in 0..<8 {
            wide += Array(test.inputs.scalars[row * 8..<row * 8 + 8]) + Array(test.inputs.scalars[64 + row * 8..<64 + row * 8 + 8])
        }
        let map = try model.predict(Tensor(shape: [1, 8, 16, 1], scalars: wide))
        #expect(map.shape == [1, 1, 9, 2])
        let classes = predictedClasses(try map.reshaped(to: [9, 2]))
        #expect(classes.first == 0 && classes.last == 1, "\(classes)")
    }

    /// A model from a file gets dropout where the zoo puts it (after Flatten and hidden Dense
    /// layers), keeping its weights; inference is unchanged, training drops.
    @Test func dropoutAddedToAModelKeepsItsWeights() throws {
        let model = try Model(inputShape: [6, 6, 1], seed: 4) {
            Flatten()
            Dense(16, activation: .relu)
            Dense(3, activation: .softmax)
        }
        let dropped = try model.withDropout(rate: 0.5)
        #expect(dropped.layers.map(\.kerasClassName) == ["Flatten", "Dropout", "Dense", "Dropout", "Dense"])
        #expect(dropped.layers.compactMap { ($0 as? Dropout)?.rate } == [0.5, 0.5])
        #expect(dropped.trainableWeights.map(\.scalars) == model.trainableWeights.map(\.scalars))
        var generator = RandomGenerator(seed: 1)
        let x = Tensor.randomNormal(shape: [5, 6, 6, 1], generator: &generator)
        #expect(try dropped.predict(x).scalars == (try model.predict(x)).scalars)
        #expect(try model.withDropout(rate: 0).layers.count == 3)
        #expect(throws: ConvNetError.self) { try model.withDropout(rate: 1) }
    }

    /// `cifar-sobel`'s frozen convolution is deck 002's image gradients and Sobel edges, per channel.
    @Test func handMadeFeaturesAreGradientsAndSobelEdges() throws {
        let model = try ModelZoo.model(named: "cifar-sobel", seed: 1)
        #expect(model.layers[0].trainable == false)
        #expect(model.parameterCounts.nonTrainable == 3 * 3 * 3 * 12)
        // A ramp that grows by 1 per column in red, by 2 per row in green, and is flat in blue.
        var pixels: [Float] = []
        for row in 0..<32 {
            for column in 0..<32 { pixels += [Float(column), Float(2 * row), 7] }
        }
        var context = ForwardContext(training: false)
        var conv = model.layers[0]
        let features = try conv.forward([Tensor(shape: [1, 32, 32, 3], scalars: pixels)], context: &context)
        #expect(features.shape == [1, 32, 32, 12])
        // An interior pixel: dx (red 1, green 0, blue 0), dy (0, 2, 0), then Sobel (dy, dx) per channel.
        let centre = Array(features.scalars[(10 * 32 + 10) * 12..<(10 * 32 + 11) * 12])
        #expect(centre == [1, 0, 0, 0, 2, 0, 0, 8, 16, 0, 0, 0])
    }
}
