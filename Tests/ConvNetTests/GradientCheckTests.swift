import ConvNet
import Testing

/// Every differentiable op and loss against central finite differences.
@Suite struct GradientCheckTests {
    struct ConvCase: CustomTestStringConvertible, Sendable {
        let input: [Int], kernel: [Int], strides: (Int, Int), padding: Padding, dilation: (Int, Int)
        var testDescription: String { "in \(input) k \(kernel) s \(strides) \(padding) d \(dilation)" }
    }

    static let convCases: [ConvCase] = [
        ConvCase(input: [1, 5, 5, 1], kernel: [3, 3, 1, 1], strides: (1, 1), padding: .valid, dilation: (1, 1)),
        ConvCase(input: [2, 7, 5, 3], kernel: [3, 2, 3, 4], strides: (2, 1), padding: .valid, dilation: (1, 1)),
        ConvCase(input: [2, 6, 6, 2], kernel: [4, 4, 2, 3], strides: (1, 1), padding: .same, dilation: (1, 1)),
        ConvCase(input: [1, 7, 7, 2], kernel: [2, 2, 2, 2], strides: (2, 2), padding: .same, dilation: (1, 1)),
        ConvCase(input: [2, 5, 6, 2], kernel: [3, 3, 2, 2], strides: (2, 2), padding: .explicit(top: 1, bottom: 0, left: 2, right: 1), dilation: (1, 1)),
        ConvCase(input: [1, 7, 7, 1], kernel: [3, 3, 1, 2], strides: (1, 1), padding: .valid, dilation: (2, 2)),
        ConvCase(input: [2, 4, 4, 3], kernel: [1, 1, 3, 5], strides: (1, 1), padding: .valid, dilation: (1, 1)),
    ]

    @Test(arguments: convCases, [Implementation.reference, .fast])
    func conv2dGradients(_ c: ConvCase, implementation: Implementation) throws {
        let x = GradientCheck.random(c.input, seed: 1), w = GradientCheck.random(c.kernel, seed: 2)
        let b = GradientCheck.random([c.kernel[3]], seed: 3)
        try GradientCheck.check([x, w, b]) {
            try conv2d($0[0], kernel: $0[1], bias: $0[2], strides: c.strides, padding: c.padding, dilation: c.dilation,
                       implementation: implementation)
        }
    }

    struct PoolCase: CustomTestStringConvertible, Sendable {
        let input: [Int], size: (Int, Int), strides: (Int, Int), padding: Padding
        var testDescription: String { "in \(input) size \(size) s \(strides) \(padding)" }
    }

    static let poolCases: [PoolCase] = [
        PoolCase(input: [1, 4, 4, 1], size: (2, 2), strides: (2, 2), padding: .valid),
        PoolCase(input: [2, 5, 7, 3], size: (3, 3), strides: (1, 2), padding: .valid),
        PoolCase(input: [2, 5, 5, 2], size: (2, 2), strides: (2, 2), padding: .same),
        PoolCase(input: [1, 6, 5, 2], size: (3, 2), strides: (2, 1), padding: .explicit(top: 1, bottom: 1, left: 0, right: 1)),
    ]

    @Test(arguments: poolCases, [Implementation.reference, .fast])
    func maxPoolGradients(_ c: PoolCase, implementation: Implementation) throws {
        try GradientCheck.check([GradientCheck.distinctValues(shape: c.input, seed: 4)]) {
            try maxPool2d($0[0], size: c.size, strides: c.strides, padding: c.padding, implementation: implementation)
        }
    }

    @Test(arguments: poolCases, [Implementation.reference, .fast])
    func averagePoolGradients(_ c: PoolCase, implementation: Implementation) throws {
        try GradientCheck.check([GradientCheck.random(c.input, seed: 5)]) {
            try avgPool2d($0[0], size: c.size, strides: c.strides, padding: c.padding, implementation: implementation)
        }
    }

    @Test func globalPoolingGradients() throws {
        try GradientCheck.check([GradientCheck.distinctValues(shape: [2, 3, 5, 4], seed: 6)]) { try globalMaxPool2d($0[0]) }
        try GradientCheck.check([GradientCheck.random([2, 3, 5, 4], seed: 7)]) { try globalAvgPool2d($0[0]) }
    }

    @Test(arguments: [Implementation.reference, .fast])
    func denseGradients(implementation: Implementation) throws {
        let x = GradientCheck.random([3, 5], seed: 8), w = GradientCheck.random([5, 4], seed: 9), b = GradientCheck.random([4], seed: 10)
        try GradientCheck.check([x, w, b]) { try dense($0[0], kernel: $0[1], bias: $0[2], implementation: implementation) }
        try GradientCheck.check([x, w]) { try matmul($0[0], $0[1], implementation: implementation) }
    }

    @Test func activationGradients() throws {
        let x = GradientCheck.distinctValues(shape: [2, 3, 4], gap: 0.11, seed: 11)
        try GradientCheck.check([x]) { relu($0[0]) }
        try GradientCheck.check([x]) { leakyRelu($0[0], alpha: 0.3) }
        try GradientCheck.check([x]) { elu($0[0], alpha: 1.5) }
        try GradientCheck.check([x]) { sigmoid($0[0]) }
        try GradientCheck.check([x]) { tanh($0[0]) }
        try GradientCheck.check([x]) { softmax($0[0]) }
        try GradientCheck.check([x]) { logSoftmax($0[0]) }
    }

    @Test func arithmeticGradients() throws {
        let a = GradientCheck.random([2, 3, 4], seed: 12), b = GradientCheck.random([2, 3, 4], seed: 13, low: 0.5, high: 2)
        let bias = GradientCheck.random([4], seed: 14, low: 0.5, high: 2)
        try GradientCheck.check([a, b]) { try $0[0] + $0[1] }
        try GradientCheck.check([a, b]) { try $0[0] - $0[1] }
        try GradientCheck.check([a, b]) { try $0[0] * $0[1] }
        try GradientCheck.check([a, b]) { try $0[0] / $0[1] }
        try GradientCheck.check([a, bias]) { try $0[0] * $0[1] }
        try GradientCheck.check([bias, b]) { try $0[0] / $0[1] }
        try GradientCheck.check([a]) { ($0[0] * 3 + 1).squared() / 2 - 0.5 }
        try GradientCheck.check([b]) { $0[0].log() }
        try GradientCheck.check([a]) { $0[0].exp() }
        try GradientCheck.check([GradientCheck.distinctValues(shape: [3, 4], gap: 0.1, seed: 15)]) { $0[0].abs() }
        try GradientCheck.check([a]) { $0[0].mean() }
        try GradientCheck.check([a]) { $0[0].sum() }
    }

    @Test func shapeOpGradients() throws {
        let x = GradientCheck.random([2, 3, 4, 2], seed: 16), y = GradientCheck.random([2, 3, 4, 3], seed: 17)
        try GradientCheck.check([x]) { try flatten($0[0]) }
        try GradientCheck.check([x]) { try $0[0].reshaped(to: [4, -1]) }
        try GradientCheck.check([x]) { try zeroPad2d($0[0], top: 1, bottom: 2, left: 0, right: 3) }
        try GradientCheck.check([x, y]) { try concatenate([$0[0], $0[1]]) }
    }

    @Test func dropoutGradient() throws {
        let x = GradientCheck.random([4, 6], seed: 18)
        try GradientCheck.check([x]) { inputs in
            var generator = RandomGenerator(seed: 5)  // the same mask at every evaluation
            return try dropout(inputs[0], rate: 0.4, generator: &generator)
        }
    }

    @Test(arguments: [Implementation.reference, .fast])
    func batchNormalizationGradients(_ implementation: Implementation) throws {
        let x = GradientCheck.random([3, 2, 2, 3], seed: 19)
        let gamma = GradientCheck.random([3], seed: 20, low: 0.5, high: 1.5), beta = GradientCheck.random([3], seed: 21)
        try GradientCheck.check([x, gamma, beta]) {
            try batchNormTraining($0[0], gamma: $0[1], beta: $0[2], implementation: implementation).output
        }
        let mean = GradientCheck.random([3], seed: 22), variance = GradientCheck.random([3], seed: 23, low: 0.5, high: 2)
        try GradientCheck.check([x, gamma, beta]) {
            try batchNormInference($0[0], gamma: $0[1], beta: $0[2], mean: mean, variance: variance, implementation: implementation)
        }
    }

    @Test func lossGradients() throws {
        let logits = GradientCheck.random([4, 5], seed: 24, low: -3, high: 3)
        let labels = [0, 3, 4, 1]
        // Soft targets whose rows sum to 1.
        let raw = GradientCheck.random([4, 5], seed: 25, low: 0, high: 1).scalars
        let soft = try Tensor(shape: [4, 5], scalars: raw.indices.map { raw[$0] / raw[($0 / 5) * 5..<($0 / 5) * 5 + 5].reduce(0, +) })
        try GradientCheck.check([logits]) { try softmaxCrossEntropy(logits: $0[0], labels: labels) }
        try GradientCheck.check([logits]) { try softmaxCrossEntropy(logits: $0[0], oneHotLabels: soft) }
        let probabilities = GradientCheck.random([4, 5], seed: 26, low: 0.1, high: 0.9)
        try GradientCheck.check([probabilities], step: 1e-3) { try categoricalCrossEntropy(probabilities: $0[0], labels: labels) }
        let targets = GradientCheck.random([3, 4], seed: 27, low: 0, high: 1)
        try GradientCheck.check([GradientCheck.random([3, 4], seed: 28, low: 0.1, high: 0.9)], step: 1e-3) {
            try binaryCrossEntropy(probabilities: $0[0], targets: targets)
        }
        try GradientCheck.check([GradientCheck.random([3, 4], seed: 29, low: -4, high: 4)]) {
            try binaryCrossEntropy(logits: $0[0], targets: targets)
        }
        try GradientCheck.check([GradientCheck.random([3, 4], seed: 30)]) {
            try meanSquaredError(predictions: $0[0], targets: targets)
        }
    }

    /// A small network end to end: conv → ReLU → max pool → flatten → dense → cross-entropy.
    @Test func composedNetworkGradient() throws {
        let x = GradientCheck.random([2, 6, 6, 2], seed: 31)
        let w1 = GradientCheck.random([3, 3, 2, 3], seed: 32), w2 = GradientCheck.random([12, 3], seed: 33)
        try GradientCheck.check([w1, w2], step: 1e-3) {
            let features = try maxPool2d(tanh(conv2d(x, kernel: $0[0], padding: .same)), size: (3, 3))
            return try softmaxCrossEntropy(logits: dense(flatten(features), kernel: $0[1]), labels: [2, 0])
        }
    }
}
