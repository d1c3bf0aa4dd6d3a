import ConvNet
import Foundation
import Testing

/// Saliency maps through the gradient tape, and their heat-map rendering.
@Suite struct VisualizationSaliencyTests {
    /// A linear model `Flatten → Dense(classes, softmax)` with the given kernel `(h·w·c, classes)`.
    static func linearModel(inputShape: [Int], kernel: [Float], classes: Int) throws -> Model {
        var model = try Model(inputShape: inputShape.map { Int?($0) }) {
            Flatten()
            Dense(classes, activation: .softmax)
        }
        var dense = try #require(model.layers[1] as? Dense)
        dense.kernel = try Tensor(shape: [inputShape.reduce(1, *), classes], scalars: kernel)
        dense.bias = try Tensor(shape: [classes], scalars: (0..<classes).map { Float($0) * 0.1 })
        model.layers[1] = dense
        return model
    }

    /// For a linear model the score of class c is `x · W[:, c] + b[c]` (before the softmax), so
    /// the saliency map is exactly `|W[:, c]|` laid out as the image.
    @Test func linearModelSaliencyIsTheWeightPattern() throws {
        let kernel = (0..<(16 * 3)).map { Float(($0 * 7) % 11) - 5 }
        let model = try Self.linearModel(inputShape: [4, 4, 1], kernel: kernel, classes: 3)
        let image = try Tensor(shape: [4, 4, 1], scalars: (0..<16).map { Float($0) / 16 })
        for target in 0..<3 {
            let result = try Saliency.compute(model: model, image: image, classIndex: target)
            #expect(result.map.shape == [4, 4])
            #expect(result.classIndex == target)
            #expect(result.map.scalars == (0..<16).map { abs(kernel[$0 * 3 + target]) })
            #expect(result.gradient.scalars == (0..<16).map { kernel[$0 * 3 + target] })
        }
        // By default the predicted class is explained; the scores are the model's probabilities.
        let predicted = try Saliency.compute(model: model, image: image)
        let probabilities = try model.predict(image.reshaped(to: [1, 4, 4, 1])).scalars
        #expect(predicted.scores == probabilities)
        #expect(predicted.classIndex == predictedClasses(try Tensor(shape: [1, 3], scalars: probabilities))[0])
        #expect(throws: ConvNetError.self) { try Saliency.compute(model: model, image: image, classIndex: 3) }
    }

    /// With colour input, each pixel's saliency is the largest |gradient| over its channels.
    @Test func colourSaliencyTakesTheChannelMaximum() throws {
        let kernel: [Float] = [1, -3, 2, 0, 0, -1, 4, 4, -4, 0.5, 0, 0]  // (2·2·3, 1)
        let model = try Self.linearModel(inputShape: [2, 2, 3], kernel: kernel, classes: 1)
        let result = try Saliency.compute(model: model, image: Tensor(shape: [1, 2, 2, 3], repeating: 0.5), classIndex: 0)
        #expect(result.map.scalars == [3, 1, 4, 0.5])
    }

    /// Saliency through convolution: only pixels inside the receptive field of the read-out matter.
    @Test func convolutionSaliencyFollowsTheReceptiveField() throws {
        var model = try Model(inputShape: [5, 5, 1]) {
            Conv2D(1, kernelSize: 3, activation: .relu)
            Flatten()
            Dense(2)
        }
        var conv = try #require(model.layers[0] as? Conv2D)
        conv.kernel = Tensor(shape: [3, 3, 1, 1], repeating: 1)
        model.layers[0] = conv
        var dense = try #require(model.layers[2] as? Dense)
        var weights = [Float](repeating: 0, count: 9 * 2)
        weights[0 * 2 + 1] = 1  // class 1 reads only the top-left conv output, fed by the top-left 3x3 pixels
        dense.kernel = try Tensor(shape: [9, 2], scalars: weights)
        model.layers[2] = dense
        let result = try Saliency.compute(model: model, image: Tensor(shape: [5, 5, 1], repeating: 1), classIndex: 1)
        let expected: [Float] = (0..<25).map { $0 / 5 < 3 && $0 % 5 < 3 ? 1 : 0 }
        #expect(result.map.scalars == expected)
    }

    /// The overlay keeps unimportant pixels as the (gray) image and paints the most salient one
    /// with the colour map's top colour.
    @Test func overlayAndHeatMap() throws {
        let image = try Tensor(shape: [1, 3, 3], scalars: [200, 0, 0, 0, 200, 0, 0, 0, 200])  // red, green, blue
        let map = try Tensor(shape: [1, 3], scalars: [0, 2, 4])
        let blended = try Saliency.overlay(image: image, map: map, opacity: 1)
        let gray: [Float] = [0.299 * 200, 0.587 * 200, 0.114 * 200]
        #expect(Array(blended.scalars[0..<3]) == [gray[0], gray[0], gray[0]])
        #expect(Array(blended.scalars[6..<9]) == [255, 255, 255])
        let half = ColorMap.heat.color(0.5)
        #expect(Array(blended.scalars[3..<6]) == [0.5 * gray[1] + 0.5 * Float(half.red), 0.5 * gray[1] + 0.5 * Float(half.green),
                                                   0.5 * gray[1] + 0.5 * Float(half.blue)])
        let heat = try Saliency.heatMap(map)
        #expect(heat.shape == [1, 3, 3])
        #expect(Array(heat.scalars[0..<3]) == [0, 0, 0])
        #expect(Array(heat.scalars[6..<9]) == [255, 255, 255])
        #expect(throws: ConvNetError.self) { try Saliency.overlay(image: image, map: Tensor(shape: [3, 1])) }
    }
}
