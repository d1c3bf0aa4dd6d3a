import ConvNet
import Foundation
import Testing

/// The decks' worked examples (`Tests/ConvNetTests/Fixtures/seed_examples.json`), asserted exactly: every
/// value in them is a small integer or a dyadic fraction that Float represents and computes exactly,
/// except where a tolerance is stated.
@Suite struct SeedExampleTests {
    static let implementations: [Implementation] = [.reference, .fast]

    @Test(arguments: implementations)
    func convolutionExamples(implementation: Implementation) throws {
        let examples = try #require(try Fixtures.seedExamples()["convolution"] as? [[String: Any]])
        #expect(examples.count >= 7)
        for example in examples {
            let input = try Tensor.image(JSONValue.matrix(example["input"]))
            let kernel = try Tensor.kernel(JSONValue.matrix(example["kernel"]))
            let stride = Int(try JSONValue.number(example["stride"]))
            let padding = Int(try JSONValue.number(example["padding"]))
            let expected = try JSONValue.matrix(example["output"])
            let output = try conv2d(input, kernel: kernel, strides: (stride, stride), padding: .uniform(padding),
                                    implementation: implementation)
            #expect(output.shape == [1, expected.count, expected[0].count, 1], "\(example["source"] ?? "")")
            #expect(output.scalars == expected.flatMap { $0 }, "\(example["source"] ?? "")")
        }
    }

    @Test(arguments: implementations)
    func poolingExamples(implementation: Implementation) throws {
        let examples = try #require(try Fixtures.seedExamples()["pooling"] as? [[String: Any]])
        #expect(examples.count >= 4)
        for example in examples {
            let input = try Tensor.image(JSONValue.matrix(example["input"]))
            let f = Int(try JSONValue.number(example["pool"])), s = Int(try JSONValue.number(example["stride"]))
            let maxPooled = try maxPool2d(input, size: (f, f), strides: (s, s), implementation: implementation)
            let averaged = try avgPool2d(input, size: (f, f), strides: (s, s), implementation: implementation)
            #expect(maxPooled.scalars == (try JSONValue.matrix(example["max"])).flatMap { $0 })
            // The 3x3 averages (e.g. 24/9) are not exact in Float; the others are.
            #expect(allClose(averaged.scalars, try JSONValue.matrix(example["average"]).flatMap { $0 }, absolute: 0, relative: 1e-6))
        }
    }

    /// Deck 002's backward examples: loss = mean((out − 1)²) through max pooling, average pooling,
    /// and a 2x2 convolution followed by ReLU.
    @Test(arguments: implementations)
    func gradientExamples(implementation: Implementation) throws {
        let examples = try #require(try Fixtures.seedExamples()["gradients"] as? [[String: Any]])
        #expect(examples.count == 3)
        for example in examples {
            let tape = GradientTape()
            let input = try tape.watch(Tensor.image(JSONValue.matrix(example["input"])))
            switch example["op"] as? String {
            case "max_pool", "avg_pool":
                let out = example["op"] as? String == "max_pool"
                    ? try maxPool2d(input, size: (2, 2), implementation: implementation)
                    : try avgPool2d(input, size: (2, 2), implementation: implementation)
                let loss = (out - 1).squared().mean()
                #expect(out.scalars == (try JSONValue.matrix(example["output"])).flatMap { $0 })
                #expect(loss.scalar == Float(try JSONValue.number(example["loss"])))
                let dInput = try tape.gradient(of: loss, withRespectTo: [input])[0]
                #expect(dInput.scalars == (try JSONValue.matrix(example["d_loss_d_input"])).flatMap { $0 })
            case "conv2d+relu":
                let kernel = try tape.watch(Tensor.kernel(JSONValue.matrix(example["kernel"])))
                let bias = try tape.watch(Tensor([Float(JSONValue.number(example["bias"]))]))
                let out = try relu(conv2d(input, kernel: kernel, bias: bias, implementation: implementation))
                let loss = (out - 1).squared().mean()
                let grads = try tape.gradient(of: loss, withRespectTo: [kernel, bias])
                // The deck prints float32 results that agree with the float64 values to 6 digits.
                #expect(allClose(out.scalars, try JSONValue.matrix(example["output"]).flatMap { $0 }, absolute: 1e-6, relative: 1e-6))
                #expect(allClose([loss.scalars[0]], [Float(try JSONValue.number(example["loss"]))], absolute: 1e-6, relative: 1e-5))
                #expect(allClose(grads[0].scalars, try JSONValue.matrix(example["d_loss_d_kernel"]).flatMap { $0 }, absolute: 1e-6, relative: 1e-5))
                #expect(allClose(grads[1].scalars, [Float(try JSONValue.number(example["d_loss_d_bias"]))], absolute: 1e-6, relative: 1e-5))
            default:
                Issue.record("unknown gradient example \(example["op"] ?? "nil")")
            }
        }
    }

    /// Output shapes of single conv/pool layers (deck 003 quizzes).
    @Test func layerShapes() throws {
        let examples = try #require(try Fixtures.seedExamples()["shapes"] as? [[String: Any]])
        var checked = 0
        for example in examples {
            guard let input = example["input"] as? [NSNumber], let output = example["output"] as? [NSNumber] else { continue }
            let dims = input.map(\.intValue)
            let padding: Padding
            switch example["padding"] {
            case let name as String: padding = name == "same" ? .same : .valid
            case let p as NSNumber: padding = .uniform(p.intValue)
            default: padding = .valid
            }
            let stride = (example["stride"] as? NSNumber)?.intValue ?? 1
            let x = Tensor(shape: [1] + dims)
            let result: Tensor
            if let kernel = example["kernel"] as? [NSNumber], let filters = example["filters"] as? NSNumber {
                let w = Tensor(shape: [kernel[0].intValue, kernel[1].intValue, dims[2], filters.intValue])
                result = try conv2d(x, kernel: w, strides: (stride, stride), padding: padding)
            } else {
                let pool = try JSONValue.ints(example["pool"])
                result = try maxPool2d(x, size: (pool[0], pool[1]), strides: (stride, stride), padding: padding)
            }
            #expect(Array(result.shape.dropFirst()) == output.map(\.intValue), "\(example["source"] ?? "")")
            checked += 1
        }
        #expect(checked == 6)
    }

    /// Deck 003's LeNet lab chain and deck 002's fully convolutional net, layer by layer through the ops.
    @Test func networkShapeChains() throws {
        var x = Tensor(shape: [1, 32, 32, 1])
        x = try conv2d(x, kernel: Tensor(shape: [5, 5, 1, 6]))
        #expect(x.shape == [1, 28, 28, 6])
        x = try maxPool2d(x)
        #expect(x.shape == [1, 14, 14, 6])
        x = try conv2d(x, kernel: Tensor(shape: [5, 5, 6, 16]))
        #expect(x.shape == [1, 10, 10, 16])
        x = try maxPool2d(x)
        #expect(x.shape == [1, 5, 5, 16])
        #expect(try flatten(x).shape == [1, 400])

        // SIGNS (deck 000): conv 4x4/2 pad 1, max pool 5/1, conv 4x4/2, avg pool 5/1.
        var s = try conv2d(Tensor(shape: [1, 64, 64, 3]), kernel: Tensor(shape: [4, 4, 3, 8]), strides: (2, 2), padding: .uniform(1))
        #expect(s.shape == [1, 32, 32, 8])
        s = try maxPool2d(s, size: (5, 5), strides: (1, 1))
        #expect(s.shape == [1, 28, 28, 8])
        s = try conv2d(s, kernel: Tensor(shape: [4, 4, 8, 16]), strides: (2, 2))
        #expect(s.shape == [1, 13, 13, 16])
        s = try avgPool2d(s, size: (5, 5), strides: (1, 1))
        #expect(s.shape == [1, 9, 9, 16])
        #expect(try flatten(s).shape == [1, 1296])

        // Deck 002's fully convolutional net.
        var f = Tensor(shape: [1, 28, 28, 1])
        let steps: [(Int, Int, Int, Padding, [Int])] = [
            (3, 32, 1, .same, [28, 28, 32]), (3, 64, 2, .same, [14, 14, 64]), (3, 128, 1, .same, [14, 14, 128]),
            (3, 256, 2, .same, [7, 7, 256]), (7, 512, 1, .valid, [1, 1, 512]), (1, 10, 1, .valid, [1, 1, 10]),
        ]
        for (k, filters, stride, padding, expected) in steps {
            f = try conv2d(f, kernel: Tensor(shape: [k, k, f.shape[3], filters]), strides: (stride, stride), padding: padding)
            #expect(Array(f.shape.dropFirst()) == expected)
        }
    }

    /// Deck 003's weight-sharing quiz and deck 002's 2x2x1 kernel, from the op's own shapes.
    @Test func parameterCountsOfSingleLayers() throws {
        let shape = try ConvolutionShape(input: [1, 32, 32, 3], kernel: [8, 8, 3, 20], bias: [20], strides: (2, 2),
                                         padding: .uniform(1), dilation: (1, 1))
        let shared = shape.kernelShape.reduce(1, *) + shape.outputChannels
        let unshared = shape.outputShape.dropFirst().reduce(1, *) * (shape.kernelShape.dropLast().reduce(1, *) + 1)
        #expect(shared == 3860)
        #expect(unshared == 756_560)
        let tiny = try ConvolutionShape(input: [1, 3, 3, 1], kernel: [2, 2, 1, 1], bias: [1], strides: (1, 1),
                                        padding: .valid, dilation: (1, 1))
        #expect(tiny.kernelShape.reduce(1, *) + tiny.outputChannels == 5)
    }

    @Test func softmaxExamples() throws {
        let examples = try #require(try Fixtures.seedExamples()["softmax"] as? [[String: Any]])
        #expect(examples.count == 2)
        for example in examples {
            let y = softmax(Tensor(try JSONValue.vector(example["input"])))
            #expect(y.scalars.allSatisfy { $0.isFinite })
            #expect(allClose(y.scalars, try JSONValue.vector(example["output"]), absolute: 0, relative: 1e-6))
        }
    }

    @Test func inputNormalization() throws {
        let example = try #require(try Fixtures.seedExamples()["normalization"] as? [String: Any])
        #expect(example["formula"] as? String == "x / 255 - 0.5")
        let pairs = try #require(example["examples"] as? [[NSNumber]])
        let pixels = Tensor(pairs.map { $0[0].floatValue })
        let normalized = pixels / 255 - 0.5
        #expect(allClose(normalized.scalars, pairs.map { $0[1].floatValue }, absolute: 1e-7, relative: 0))
    }
}
