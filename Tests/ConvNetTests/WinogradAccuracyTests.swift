import ConvNet
@_spi(Testing) import ConvNetCore
import Testing

/// Winograd's convolution against the textbook loops, in all three passes, for both tiles and for
/// the layer sizes of the speedrun network (`airbench94`) and a ResNet stage: the error relative
/// to the largest reference value, with He-scaled kernels so that outputs are of order one.
/// The bounds are about 4x the largest errors measured on 2026-12-01 (docs/PERFORMANCE.md has the
/// table): F(2x2, 3x3) up to 2.4e-6, F(4x4, 3x3), whose interpolation points ±2 bring larger
/// coefficients, up to 1.2e-5 (about five times as much).
@Suite struct WinogradAccuracyTests {
    struct Layer: CustomTestStringConvertible, Sendable {
        let batch: Int, side: Int, inputChannels: Int, outputChannels: Int, padding: Padding
        var kernel = 3
        var testDescription: String { "\(batch)x\(side)x\(side)x\(inputChannels) → \(outputChannels) \(kernel)x\(kernel) \(padding)" }
    }

    static let layers = [
        Layer(batch: 2, side: 31, inputChannels: 24, outputChannels: 64, padding: .same),
        Layer(batch: 2, side: 31, inputChannels: 64, outputChannels: 64, padding: .same),
        Layer(batch: 2, side: 15, inputChannels: 64, outputChannels: 256, padding: .same),
        Layer(batch: 2, side: 15, inputChannels: 256, outputChannels: 256, padding: .same),
        Layer(batch: 4, side: 7, inputChannels: 256, outputChannels: 256, padding: .same),
        Layer(batch: 2, side: 32, inputChannels: 16, outputChannels: 16, padding: .valid),
        // conv4x7's 7x7 layers, and a padded one.
        Layer(batch: 2, side: 22, inputChannels: 32, outputChannels: 64, padding: .valid, kernel: 7),
        Layer(batch: 2, side: 16, inputChannels: 64, outputChannels: 128, padding: .valid, kernel: 7),
        Layer(batch: 2, side: 10, inputChannels: 128, outputChannels: 256, padding: .valid, kernel: 7),
        Layer(batch: 2, side: 13, inputChannels: 16, outputChannels: 24, padding: .same, kernel: 7),
    ]

    /// The tiles for each kernel side and their error bounds.
    static let bounds: [ConvolutionWinograd.Tile: Float] = [.f2x2: 1e-5, .f4x4: 4e-5, .f2x2For7x7: 4e-5]

    /// `max |fast − reference| / max |reference|`.
    static func relativeError(_ fast: [Float], _ reference: [Float]) -> Float {
        maxDifference(fast, reference) / max(reference.map(abs).max() ?? 0, .leastNormalMagnitude)
    }

    @Test(arguments: layers)
    func everyTileMatchesTheReference(_ layer: Layer) throws {
        let (cIn, cOut) = (layer.inputChannels, layer.outputChannels)
        let shape = try ConvolutionShape(input: [layer.batch, layer.side, layer.side, cIn], kernel: [layer.kernel, layer.kernel, cIn, cOut],
                                         bias: [cOut], strides: (1, 1), padding: layer.padding,
                                         dilation: (1, 1))
        #expect(ConvolutionWinograd.applies(to: shape))
        var generator = RandomGenerator(seed: 42)
        let x = Tensor.randomUniform(shape: shape.inputShape, low: -1, high: 1, generator: &generator).scalars
        let limit = (6 / Float(layer.kernel * layer.kernel * cIn)).squareRoot()
        let w = Tensor.randomUniform(shape: shape.kernelShape, low: -limit, high: limit, generator: &generator).scalars
        let b = Tensor.randomUniform(shape: [cOut], low: -0.1, high: 0.1, generator: &generator).scalars
        let dy = Tensor.randomUniform(shape: shape.outputShape, low: -1, high: 1, generator: &generator).scalars
        let z = ConvolutionReference.forward(input: x, kernel: w, bias: b, shape: shape)
        let g = ConvolutionReference.backward(input: x, kernel: w, upstream: dy, shape: shape)
        let tiles = ConvolutionWinograd.Tile.allCases.filter { $0.kernelSide == layer.kernel }
        #expect(!tiles.isEmpty && tiles.contains(ConvolutionWinograd.defaultTile(for: shape)))
        for tile in tiles {
            let bound = try #require(Self.bounds[tile])
            let y = ConvolutionWinograd.forward(input: x, kernel: w, bias: b, shape: shape, tile: tile)
            let fast = ConvolutionWinograd.backward(input: x, kernel: w, upstream: dy, shape: shape, tile: tile)
            let errors = [Self.relativeError(y, z), Self.relativeError(fast.input ?? [], g.input),
                          Self.relativeError(fast.kernel, g.kernel), Self.relativeError(fast.bias, g.bias)]
            print("winograd \(tile) \(layer.testDescription): forward \(errors[0]) input \(errors[1]) kernel \(errors[2]) bias \(errors[3])")
            #expect(errors.allSatisfy { $0 < bound }, "\(tile): forward, input, kernel, bias errors \(errors)")
        }
    }

    /// F(4x4, 3x3)'s C transforms (`convnet_winograd4x4_*`) against the loops over its Swift maps:
    /// the C does Swift's arithmetic operation for operation, without contraction into FMAs, so
    /// every output and gradient must be the same float, of the convolution and of the convolution
    /// fused with max pooling. Edge tiles (sides 5, 9, 13, 31), both paddings, several groups of
    /// tiles per thread (31x31 with 64 channels), one to three images, with and without ReLU.
    static let swiftMapLayers = [
        Layer(batch: 1, side: 5, inputChannels: 8, outputChannels: 8, padding: .same),
        Layer(batch: 3, side: 9, inputChannels: 16, outputChannels: 24, padding: .valid),
        Layer(batch: 2, side: 13, inputChannels: 24, outputChannels: 8, padding: .same),
        Layer(batch: 2, side: 31, inputChannels: 64, outputChannels: 64, padding: .same),
        Layer(batch: 1, side: 8, inputChannels: 256, outputChannels: 128, padding: .valid),
    ]

    @Test(arguments: swiftMapLayers, [false, true])
    func compiledTransformsEqualTheSwiftMapsBitForBit(_ layer: Layer, relu: Bool) throws {
        let (cIn, cOut) = (layer.inputChannels, layer.outputChannels)
        let shape = try ConvolutionShape(input: [layer.batch, layer.side, layer.side, cIn], kernel: [3, 3, cIn, cOut],
                                         bias: [cOut], strides: (1, 1), padding: layer.padding, dilation: (1, 1))
        var generator = RandomGenerator(seed: 7)
        let x = Tensor.randomUniform(shape: shape.inputShape, low: -1, high: 1, generator: &generator).scalars
        let w = Tensor.randomUniform(shape: shape.kernelShape, low: -0.3, high: 0.3, generator: &generator).scalars
        let b = Tensor.randomUniform(shape: [cOut], low: -0.1, high: 0.1, generator: &generator).scalars
        let dy = Tensor.randomUniform(shape: shape.outputShape, low: -1, high: 1, generator: &generator).scalars

        let y = ConvolutionWinograd.forward(input: x, kernel: w, bias: b, shape: shape, relu: relu, tile: .f4x4)
        let ySwift = ConvolutionWinograd.forwardThroughSwiftMaps(input: x, kernel: w, bias: b, shape: shape, relu: relu)
        let forwardIdentical = y == ySwift  // (a Bool, so that a failure prints the difference, not the arrays)
        #expect(forwardIdentical, "forward: largest difference \(maxDifference(y, ySwift))")
        if relu { #expect(y.contains(0) && y.contains { $0 > 0 }, "the ReLU masks some outputs and not others") }

        let mask = relu ? y : nil
        let fast = ConvolutionWinograd.backward(input: x, kernel: w, upstream: dy, shape: shape, reluOutput: mask, tile: .f4x4)
        let swift = ConvolutionWinograd.backwardThroughSwiftMaps(input: x, kernel: w, upstream: dy, shape: shape, reluOutput: mask)
        let pairs = [("input", fast.input ?? [], swift.input ?? []), ("kernel", fast.kernel, swift.kernel), ("bias", fast.bias, swift.bias)]
        for (name, a, b) in pairs {
            let identical = !a.isEmpty && a == b
            #expect(identical, "\(name) gradient: largest difference \(maxDifference(a, b))")
        }

        // Fused with 2x2 max pooling (odd sides drop a row and a column), with zero filters so
        // that some windows tie and, with ReLU, some are all zero.
        let wTies = w.indices.map { ($0 % cOut) % 5 == 4 ? 0 : w[$0] }
        let pooled = ConvolutionWinograd.forwardMaxPooled(input: x, kernel: wTies, bias: b, shape: shape, relu: relu, tile: .f4x4)
        let pooledSwift = ConvolutionWinograd.forwardMaxPooledThroughSwiftMaps(input: x, kernel: wTies, bias: b, shape: shape, relu: relu)
        let pooledIdentical = pooled.output == pooledSwift.output && pooled.winners == pooledSwift.winners
        #expect(pooledIdentical, "pooled: largest difference \(maxDifference(pooled.output, pooledSwift.output))")
        #expect(Set(pooled.winners).isSuperset(of: relu ? [0, 1, 2, 3, 4] : [0, 1, 2, 3]), "winners \(Set(pooled.winners))")
        let dP = Tensor.randomUniform(shape: [pooled.output.count], low: -1, high: 1, generator: &generator).scalars
        let pooledFast = ConvolutionWinograd.backwardMaxPooled(input: x, kernel: wTies, upstream: dP, winners: pooled.winners,
                                                               shape: shape, tile: .f4x4)
        let pooledSlow = ConvolutionWinograd.backwardMaxPooledThroughSwiftMaps(input: x, kernel: wTies, upstream: dP,
                                                                              winners: pooled.winners, shape: shape)
        let pooledPairs = [("input", pooledFast.input ?? [], pooledSlow.input ?? []), ("kernel", pooledFast.kernel, pooledSlow.kernel),
                           ("bias", pooledFast.bias, pooledSlow.bias)]
        for (name, a, b) in pooledPairs {
            let identical = !a.isEmpty && a == b
            #expect(identical, "pooled \(name) gradient: largest difference \(maxDifference(a, b))")
        }
    }
}
