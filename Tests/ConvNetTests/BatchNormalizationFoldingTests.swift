import ConvNet
import Testing

/// At inference, `Model.forward` folds a `BatchNormalization` into the `Conv2D` before it
/// (`LayerFusion`): the same function with other rounding. Against the same model run layer by
/// layer (asking for the convolutions' and normalizations' outputs turns fusion off): close, but
/// not bit for bit, which shows the folded path ran. With a tape watching, or in training, nothing
/// is folded.
@Suite struct BatchNormalizationFoldingTests {
    static func random(_ shape: [Int], seed: UInt64, low: Float, high: Float) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor.randomUniform(shape: shape, low: low, high: high, generator: &generator)
    }

    /// `model` with statistics, scales and offsets far from a fresh layer's (μ 0, σ² 1, γ 1, β 0),
    /// so that folding changes the weights.
    static func withTrainedLookingNormalizations(_ model: Model) -> Model {
        var model = model
        for index in model.layers.indices where model.layers[index] is BatchNormalization {
            let channels = model.layers[index].nonTrainableWeights[0].count, seed = UInt64(10 * index)
            model.layers[index].nonTrainableWeights = [random([channels], seed: seed, low: -0.5, high: 0.5),
                                                       random([channels], seed: seed + 1, low: 0.2, high: 3)]
            model.layers[index].trainableWeights = [random([channels], seed: seed + 2, low: 0.5, high: 1.5),
                                                    random([channels], seed: seed + 3, low: -0.5, high: 0.5)]
        }
        return model
    }

    /// The convolutions and normalizations, whose outputs `forward(outputs:)` keeps when asked.
    static func unfusable(_ model: Model) -> Set<Int> {
        Set(model.layers.indices.filter { model.layers[$0] is BatchNormalization || model.layers[$0] is Conv2D })
    }

    /// The output of layer `feature` in inference: fused, or every layer alone.
    static func features(_ model: Model, _ x: Tensor, at feature: Int, alone: Bool) throws -> [Float] {
        var copy = model, context = ForwardContext(training: false)
        let run = try copy.forward(x, context: &context, outputs: alone ? unfusable(model).union([feature]) : [feature])
        return try #require(run.intermediate[feature]).scalars
    }

    static func checkFolding(_ model: Model, input shape: [Int], feature: Int) throws {
        let model = withTrainedLookingNormalizations(model)
        let x = random(shape, seed: 5, low: -1, high: 1)
        let folded = try features(model, x, at: feature, alone: false)
        let alone = try features(model, x, at: feature, alone: true)
        let largest = alone.map(abs).max() ?? 0
        print("folding \(model.name): largest difference \(maxDifference(folded, alone)) of \(largest)")
        #expect(largest > 0.1)
        #expect(maxDifference(folded, alone) <= 2e-6 * largest, "largest difference \(maxDifference(folded, alone)) of \(largest)")
        let identical = folded == alone
        #expect(!identical, "the folded path did not run")
        // `predict` (what `evaluate` and `convnet predict` call) folds too.
        let probabilities = try model.predict(x).scalars
        var copy = model, context = ForwardContext(training: false)
        let unfused = try copy.forward(x, context: &context, outputs: Self.unfusable(model))
        #expect(allClose(probabilities, unfused.output.scalars, absolute: 1e-6, relative: 1e-5))
    }

    /// ResNet-20: conv–BN–ReLU, conv–BN–Add–ReLU (the shortcut added in one pass after the folded
    /// convolution), the strided convolutions and their 1x1 projections (im2col), the rest Winograd.
    @Test func resNet20() throws {
        let model = try ModelZoo.model(named: "resnet20", seed: 3)
        let pooling = try #require(model.layers.firstIndex { $0 is GlobalAveragePooling2D })
        try Self.checkFolding(model, input: [3, 32, 32, 3], feature: pooling)
    }

    /// A biased convolution into a normalization and GELU, an unbiased strided one into ReLU, a 1x1
    /// one into a normalization alone, one whose own activation keeps it from folding.
    @Test func sequentialChains() throws {
        let model = try Model(name: "chains", inputShape: [12, 12, 3], seed: 4) {
            Conv2D(8, kernelSize: 3, padding: .same)
            BatchNormalization()
            Activation(.gelu)
            Conv2D(16, kernelSize: 3, strides: 2, padding: .same, useBias: false)
            BatchNormalization()
            Activation(.relu)
            Conv2D(16, kernelSize: 1)
            BatchNormalization()
            Conv2D(8, kernelSize: 3, activation: .relu)
            BatchNormalization()
            GlobalAveragePooling2D()
            Dense(4, activation: .softmax)
        }
        try Self.checkFolding(model, input: [2, 12, 12, 3], feature: model.layers.count - 2)
    }

    /// In training mode (batch statistics) and under a tape (gradients must reach every weight),
    /// the layers run unfolded: bit for bit the layers alone.
    @Test func nothingFoldsInTrainingOrUnderATape() throws {
        let model = Self.withTrainedLookingNormalizations(try ModelZoo.model(named: "resnet20", seed: 3))
        let x = Self.random([2, 32, 32, 3], seed: 8, low: -1, high: 1)
        for training in [true, false] {
            let fused = try forwardAndBackward(model, x, training: training, outputs: [])
            let alone = try forwardAndBackward(model, x, training: training, outputs: Self.unfusable(model))
            #expect(fused == alone, "training \(training)")
        }
    }
}
