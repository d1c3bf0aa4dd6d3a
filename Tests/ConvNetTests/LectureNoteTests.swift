import ConvNet
import Foundation
import Testing

/// What the lecture notes state as formulas or print as numbers, asserted against the code: the
/// initializers' distributions, the L1 penalty, inverted dropout, sigmoid and tanh, and three worked
/// examples (deck 000's RGB single step, deck 002's average-pooling formula, deck 004's stride-1
/// sharpen row). The decks' numbers are copied here; the tests do not read the decks.
@Suite struct LectureNoteTests {
    // MARK: Initializers against their formulas

    /// A conv kernel `(3, 3, 64, 128)`: fan_in = 3·3·64 = 576, fan_out = 3·3·128 = 1152, 73,728 samples.
    static let kernelShape = [3, 3, 64, 128]
    static let fanIn = 576.0
    static let fanOut = 1152.0

    /// The mean, variance, smallest and largest of a sample, in Double.
    static func statistics(_ values: [Float]) -> (mean: Double, variance: Double, min: Double, max: Double) {
        let n = Double(values.count)
        let mean = values.reduce(0.0) { $0 + Double($1) } / n
        let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        return (mean, variance, Double(values.min() ?? 0), Double(values.max() ?? 0))
    }

    /// How each initializer should be distributed: `U(−l, l)` (variance l²/3) or a normal truncated at
    /// ±bound whose variance is `variance`.
    enum Expected {
        case uniform(limit: Double)
        case normal(variance: Double, bound: Double?)
    }

    /// The standard normal truncated to [−2, 2] has variance 1 − 4φ(2)/(Φ(2) − Φ(−2)) = 0.773741...;
    /// Keras divides σ by its square root (0.879626) so that the samples keep variance σ².
    static let truncatedUnitVariance = 1 - 4 * (exp(-2.0) / sqrt(2 * Double.pi)) / erf(2 / sqrt(2.0))

    static let distributions: [(Initializer, Expected)] = [
        (.glorotUniform, .uniform(limit: sqrt(6 / (fanIn + fanOut)))),
        (.heUniform, .uniform(limit: sqrt(6 / fanIn))),
        (.lecunUniform, .uniform(limit: sqrt(3 / fanIn))),
        (.randomUniform(low: -0.05, high: 0.05), .uniform(limit: 0.05)),
        (.glorotNormal, .normal(variance: 2 / (fanIn + fanOut), bound: 2 * sqrt(2 / (fanIn + fanOut) / truncatedUnitVariance))),
        (.heNormal, .normal(variance: 2 / fanIn, bound: 2 * sqrt(2 / fanIn / truncatedUnitVariance))),
        (.lecunNormal, .normal(variance: 1 / fanIn, bound: 2 * sqrt(1 / fanIn / truncatedUnitVariance))),
        (.randomNormal(standardDeviation: 0.05), .normal(variance: 0.0025, bound: nil)),
        (.truncatedNormal(standardDeviation: 0.05), .normal(variance: 0.0025 * truncatedUnitVariance, bound: 0.1)),
    ]

    @Test func truncationCorrectionIsTheTruncatedNormalsStandardDeviation() {
        // Keras's constant 0.87962566103423978, from the formula.
        #expect(abs(sqrt(Self.truncatedUnitVariance) - 0.879_625_661_034_239_78) < 1e-12)
    }

    @Test(arguments: 0..<distributions.count)
    func initializerStatistics(index: Int) {
        let (initializer, expected) = Self.distributions[index]
        var generator = RandomGenerator(seed: 42)
        let weights = initializer.make(shape: Self.kernelShape, generator: &generator)
        #expect(weights.shape == Self.kernelShape)
        let stats = Self.statistics(weights.scalars)
        let n = Double(weights.count)
        switch expected {
        case let .uniform(limit):
            #expect(stats.min >= -limit && stats.max <= limit, "\(initializer): outside ±\(limit)")
            // With 73,728 draws the extremes come within 0.1% of the limits.
            #expect(stats.max > limit * 0.999 && stats.min < -limit * 0.999, "\(initializer): does not reach ±\(limit)")
            let variance = limit * limit / 3
            #expect(abs(stats.mean) < 5 * sqrt(variance / n), "\(initializer): mean \(stats.mean)")
            // The variance estimate's relative standard error is √(0.8/n) ≈ 0.33% for a uniform: 2% is 6σ.
            #expect(abs(stats.variance / variance - 1) < 0.02, "\(initializer): variance \(stats.variance), expected \(variance)")
        case let .normal(variance, bound):
            #expect(abs(stats.mean) < 5 * sqrt(variance / n), "\(initializer): mean \(stats.mean)")
            #expect(abs(stats.variance / variance - 1) < 0.03, "\(initializer): variance \(stats.variance), expected \(variance)")
            if let bound {
                #expect(stats.min >= -bound * 1.000_001 && stats.max <= bound * 1.000_001, "\(initializer): outside ±\(bound)")
                #expect(stats.max > bound * 0.98, "\(initializer): never near the truncation bound \(bound)")
            } else {
                // An untruncated normal goes beyond 2σ (4.6% of the samples).
                #expect(stats.max > 3 * sqrt(variance))
            }
        }
    }

    @Test func constantInitializers() {
        var generator = RandomGenerator(seed: 1)
        #expect(Initializer.zeros.make(shape: [4, 5], generator: &generator).scalars == [Float](repeating: 0, count: 20))
        #expect(Initializer.ones.make(shape: [4, 5], generator: &generator).scalars == [Float](repeating: 1, count: 20))
        #expect(Initializer.constant(0.25).make(shape: [3], generator: &generator).scalars == [0.25, 0.25, 0.25])
    }

    @Test func fansFollowKeras() {
        let conv = Initializer.fans([3, 3, 64, 128]), dense = Initializer.fans([400, 120])
        #expect(conv.0 == 576 && conv.1 == 1152)
        #expect(dense.0 == 400 && dense.1 == 120)
    }

    // MARK: L1 penalty

    /// `l1·Σ|w|` and its gradient `l1·sign(w)`, alone and added to the loss a layer reports.
    @Test func l1PenaltyAndGradient() throws {
        let values: [Float] = [0.5, -1.25, 2, -0.75, 0.125, -3]
        let tape = GradientTape()
        let w = tape.watch(try Tensor(shape: [2, 3], scalars: values))
        let penalty = try Regularizer.l1(0.01).penalty(w)
        let total = values.reduce(0) { $0 + abs($1) }   // 7.625
        #expect(abs(try #require(penalty.scalar) - 0.01 * total) < 1e-7)
        let gradient = try tape.gradient(of: penalty, withRespectTo: [w])[0]
        #expect(gradient.scalars == values.map { $0 > 0 ? 0.01 : -0.01 })

        // L1 and L2 together: l1·Σ|w| + l2·Σw².
        let both = try Regularizer(l1: 0.01, l2: 0.001).penalty(w)
        let squares = values.reduce(0) { $0 + $1 * $1 }
        #expect(abs(try #require(both.scalar) - (0.01 * total + 0.001 * squares)) < 1e-6)

        // A Dense layer with an L1 kernel regularizer reports exactly that penalty of its kernel.
        let model = try Model(inputShape: [4], seed: 3) { Dense(3, kernelRegularizer: .l1(0.02)) }
        let kernel = try #require(model.layers[0].trainableWeights.first)
        let layerPenalty = try #require(try model.layers[0].regularizationLoss())
        #expect(abs(try #require(layerPenalty.scalar) - 0.02 * kernel.scalars.reduce(0) { $0 + abs($1) }) < 1e-6)
    }

    // MARK: Dropout

    /// Inverted dropout: in training each unit is 0 or x/(1 − p), about a fraction 1 − p are kept, and
    /// the mean is unchanged; at inference the layer is the identity.
    @Test(arguments: [Float(0.1), 0.5, 0.8])
    func dropoutScalesKeptUnitsAtTrainingAndIsIdentityAtInference(rate: Float) throws {
        let count = 20_000
        let x = Tensor((0..<count).map { Float($0 % 7 + 1) })
        var generator = RandomGenerator(seed: 5)
        let y = try dropout(x, rate: rate, generator: &generator)
        var kept = 0
        for (input, output) in zip(x.scalars, y.scalars) {
            if output == 0 { continue }
            kept += 1
            #expect(abs(output - input / (1 - rate)) <= 1e-6 * output, "\(input) became \(output)")
        }
        let keptFraction = Double(kept) / Double(count)
        let standardError = sqrt(Double(rate) * Double(1 - rate) / Double(count))
        #expect(abs(keptFraction - Double(1 - rate)) < 5 * standardError, "kept \(keptFraction)")
        let meanIn = x.scalars.reduce(0.0) { $0 + Double($1) } / Double(count)
        let meanOut = y.scalars.reduce(0.0) { $0 + Double($1) } / Double(count)
        #expect(abs(meanOut / meanIn - 1) < 0.05, "mean \(meanIn) became \(meanOut)")

        // The backward pass multiplies by the same mask: 1/(1 − p) where kept, 0 where dropped.
        let tape = GradientTape()
        let watched = tape.watch(x)
        var again = RandomGenerator(seed: 5)
        let z = try dropout(watched, rate: rate, generator: &again)
        #expect(z.scalars == y.scalars)
        let dx = try tape.gradient(of: z.sum(), withRespectTo: [watched])[0]
        #expect(dx.scalars == y.scalars.map { $0 == 0 ? 0 : 1 / (1 - rate) })

        // The layer: the training forward drops, the inference forward (and predict) returns its input.
        var layer = Dropout(rate)
        let batch = try x.reshaped(to: [100, 200])
        var inference = ForwardContext(training: false)
        #expect(try layer.forward([batch], context: &inference).scalars == batch.scalars)
        var training = ForwardContext(training: true, generator: RandomGenerator(seed: 9))
        #expect(try layer.forward([batch], context: &training).scalars.contains(0))
        let model = try Model(inputShape: [200], seed: 2) { Dropout(rate) }
        #expect(try model.predict(batch).scalars == batch.scalars)
    }

    // MARK: Sigmoid and tanh (deck 002)

    static let points: [Double] = [-30, -8, -2.5, -1, -0.25, 0, 0.25, 1, 2.5, 8, 30]

    /// σ(u) = 1/(1 + e^−u) and tanh(x) = 2/(1 + e^−2x) − 1, as deck 002 writes them, and their
    /// derivatives σ(1 − σ) and 1 − tanh², through the tape.
    @Test func sigmoidAndTanhFollowTheDecksFormulas() throws {
        let x = Tensor(Self.points.map(Float.init))
        let sigmoidValues = Self.points.map { 1 / (1 + exp(-$0)) }
        let tanhValues = Self.points.map { 2 / (1 + exp(-2 * $0)) - 1 }
        let tape = GradientTape()
        let watched = tape.watch(x)
        let s = sigmoid(watched), t = tanh(watched)
        for (index, point) in Self.points.enumerated() {
            #expect(abs(Double(s.scalars[index]) - sigmoidValues[index]) <= 1e-7, "σ(\(point))")
            #expect(abs(Double(t.scalars[index]) - tanhValues[index]) <= 2e-7, "tanh(\(point))")
        }
        #expect(s.scalars[5] == 0.5 && t.scalars[5] == 0)
        #expect(s.scalars.allSatisfy { (0...1).contains($0) } && t.scalars.allSatisfy { (-1...1).contains($0) })
        let ds = try tape.gradient(of: s.sum(), withRespectTo: [watched])[0]
        let dt = try tape.gradient(of: t.sum(), withRespectTo: [watched])[0]
        for index in Self.points.indices {
            let sv = sigmoidValues[index], tv = tanhValues[index]
            #expect(abs(Double(ds.scalars[index]) - sv * (1 - sv)) <= 1e-7)
            #expect(abs(Double(dt.scalars[index]) - (1 - tv * tv)) <= 2e-7)
        }
    }

    /// Deck 002's sigmoid loss: L = (1/N)[−y·log ŷ − (1 − y)·log(1 − ŷ)] with ŷ = σ(z), and
    /// ∂L/∂z = (ŷ − y)/N, from probabilities and from logits alike.
    @Test func binaryCrossEntropyAndItsGradientThroughTheSigmoid() throws {
        let z: [Float] = [-2, -0.5, 0.3, 1.5, 3]
        let y: [Float] = [0, 1, 0, 1, 1]
        let n = Double(z.count)
        let yHat = z.map { 1 / (1 + exp(-Double($0))) }
        let expectedLoss = zip(yHat, y).reduce(0.0) { $0 - Double($1.1) * log($1.0) - Double(1 - $1.1) * log(1 - $1.0) } / n
        for logits in [false, true] {
            let tape = GradientTape()
            let watched = tape.watch(try Tensor(shape: [5, 1], scalars: z))
            let targets = try Tensor(shape: [5, 1], scalars: y)
            let loss = logits ? try binaryCrossEntropy(logits: watched, targets: targets)
                : try binaryCrossEntropy(probabilities: sigmoid(watched), targets: targets)
            #expect(abs(Double(try #require(loss.scalar)) - expectedLoss) < 1e-6)
            let dz = try tape.gradient(of: loss, withRespectTo: [watched])[0]
            for index in z.indices {
                #expect(abs(Double(dz.scalars[index]) - (yHat[index] - Double(y[index])) / n) < 1e-6)
            }
        }
    }

    // MARK: Worked examples

    /// Deck 000, "Convolution with single step": one 3x3 window of each of R, G and B (zero padded),
    /// W = [[1, 0, 0], [0, −1, 0], [0, 0, 1]] on every channel and b = 5. The deck's terms are
    /// (0 − 155 + 157) + (0 − 166 + 168) + (0 − 162 + 164) + 5; they sum to 11 (the slide prints "= 1",
    /// a digit short of its own terms).
    @Test(arguments: [Implementation.reference, .fast])
    func rgbSingleStep(implementation: Implementation) throws {
        let red: [[Float]] = [[0, 0, 0, 0, 0, 0], [0, 156, 155, 156, 158, 158], [0, 153, 154, 157, 159, 159],
                              [0, 149, 151, 153, 158, 159], [0, 146, 146, 149, 153, 158], [0, 145, 143, 143, 148, 158]]
        let green: [[Float]] = [[0, 0, 0, 0, 0, 0], [0, 167, 166, 167, 169, 169], [0, 164, 165, 168, 170, 170],
                                [0, 160, 162, 166, 169, 170], [0, 156, 156, 159, 163, 168], [0, 155, 153, 153, 158, 168]]
        let blue: [[Float]] = [[0, 0, 0, 0, 0, 0], [0, 163, 162, 163, 165, 165], [0, 160, 161, 164, 166, 166],
                               [0, 156, 158, 162, 165, 166], [0, 155, 155, 158, 162, 167], [0, 154, 152, 152, 157, 167]]
        let w: [[Float]] = [[1, 0, 0], [0, -1, 0], [0, 0, 1]]
        // The slice a[0:3, 1:4, :] of the padded image, (1, 3, 3, 3) in NHWC.
        var slice: [Float] = []
        for row in 0..<3 {
            for column in 1..<4 { slice += [red[row][column], green[row][column], blue[row][column]] }
        }
        let kernel = try Tensor(shape: [3, 3, 3, 1], scalars: w.flatMap { row in row.flatMap { [$0, $0, $0] } })
        let z = try conv2d(Tensor(shape: [1, 3, 3, 3], scalars: slice), kernel: kernel, bias: Tensor([5]),
                           implementation: implementation)
        #expect(z.shape == [1, 1, 1, 1])
        let redTerm: Float = 0 - 155 + 157, greenTerm: Float = 0 - 166 + 168, blueTerm: Float = 0 - 162 + 164
        #expect(z.scalars == [redTerm + greenTerm + blueTerm + 5])
        #expect(z.scalars == [11])
        // Each channel's term alone: 2, 2 and 2.
        for (channel, image) in [red, green, blue].enumerated() {
            let one = try Tensor(shape: [1, 3, 3, 1], scalars: (0..<3).flatMap { row in (1..<4).map { image[row][$0] } })
            let term = try conv2d(one, kernel: Tensor(shape: [3, 3, 1, 1], scalars: w.flatMap { $0 }), implementation: implementation)
            #expect(term.scalars == [2], "channel \(channel)")
        }
        // The same window through a full padded convolution of the unpadded image: output (0, 1).
        var image: [Float] = []
        for row in 1..<6 {
            for column in 1..<6 { image += [red[row][column], green[row][column], blue[row][column]] }
        }
        let full = try conv2d(Tensor(shape: [1, 5, 5, 3], scalars: image), kernel: kernel, bias: Tensor([5]),
                              padding: .uniform(1), implementation: implementation)
        #expect(full.shape == [1, 5, 5, 1])
        #expect(full.scalars[1] == 11)
    }

    /// Deck 002, "Average Pooling — Formula": [[4, 3, 1, 5], [1, 3, 4, 8], [4, 5, 4, 3], [6, 5, 9, 4]]
    /// pooled 2x2 with stride 2. The slide prints [[2.8, 4.5], [5.3, 5.0]]: 2.75 to one decimal, 4.5 and
    /// 5.0 match; the bottom-left window (4, 5, 6, 5) averages to 5.0, not the printed 5.3.
    @Test(arguments: [Implementation.reference, .fast])
    func averagePoolingFormulaSlide(implementation: Implementation) throws {
        let x = try Tensor.image([[4, 3, 1, 5], [1, 3, 4, 8], [4, 5, 4, 3], [6, 5, 9, 4]])
        let pooled = try avgPool2d(x, size: (2, 2), strides: (2, 2), implementation: implementation)
        #expect(pooled.shape == [1, 2, 2, 1])
        #expect(pooled.scalars == [2.75, 4.5, 5.0, 5.0])
        let printed: [Double] = [2.8, 4.5, 5.3, 5.0]
        let oneDecimal = pooled.scalars.map { (Double($0) * 10).rounded(.toNearestOrAwayFromZero) / 10 }
        #expect(zip(oneDecimal, printed).map { $0 == $1 } == [true, true, false, true])
        // The backward pass spreads each upstream value evenly over its window: dA = dP / 4.
        let tape = GradientTape()
        let watched = tape.watch(x)
        let out = try avgPool2d(watched, size: (2, 2), strides: (2, 2), implementation: implementation)
        let dx = try tape.gradient(of: out.sum(), withRespectTo: [watched])[0]
        #expect(dx.scalars == [Float](repeating: 0.25, count: 16))
    }

    /// Deck 004, "Convolution calculation on borders": the sharpen kernel [[0, −1, 0], [−1, 5, −1],
    /// [0, −1, 0]] with one zero of padding and stride 1 on the 5x5 image gives 320 at the corner and
    /// the row 210, 89, 111 below it.
    @Test(arguments: [Implementation.reference, .fast])
    func strideOneSharpenRow(implementation: Implementation) throws {
        let image = try Tensor.image([[105, 102, 100, 97, 96], [103, 99, 103, 101, 102], [101, 98, 104, 102, 100],
                                      [99, 101, 106, 104, 99], [104, 104, 104, 100, 98]])
        let sharpen = try Tensor.kernel([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
        let out = try conv2d(image, kernel: sharpen, padding: .uniform(1), implementation: implementation)
        #expect(out.shape == [1, 5, 5, 1])
        #expect(out.scalars[0] == 320)
        #expect(Array(out.scalars[5..<8]) == [210, 89, 111])
    }
}
