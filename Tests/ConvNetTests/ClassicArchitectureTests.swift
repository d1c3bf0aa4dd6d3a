import ConvNet
import Foundation
import Testing

/// The classic architectures of the zoo (AlexNet, VGG, ResNet, GoogLeNet and their 32x32
/// variants): published parameter counts, shape arithmetic, a forward and backward pass of every
/// block type, and Keras applications' weight layout.
@Suite struct ClassicArchitectureTests {
    /// What a zoo entry must build to: parameter counts and some layers' output shapes (batch axis
    /// excluded), at `inputShape` with `classes` classes.
    struct Expected: Sendable, CustomTestStringConvertible {
        let name: String
        let inputShape: [Int]
        let classes: Int
        let trainable: Int
        let nonTrainable: Int
        let shapes: KeyValuePairs<String, [Int]>
        var testDescription: String { name }
    }

    /// The ImageNet models at 224x224x3 (AlexNet 227x227x3) with 1000 classes, and the CIFAR
    /// variants at 32x32x3 with 10 classes. References:
    /// - alexnet: 62,378,344, summed from the layer list of Krizhevsky et al. 2012 (one tower, as
    ///   deck 000's table); `alexNetCountsFollowThePaper` recomputes it layer by layer.
    /// - vgg16: 138,357,544, Keras's summary of `keras.applications.VGG16()`.
    /// - resnet18 / resnet34: 11,689,512 / 21,797,672 trainable, torchvision's parameter counts
    ///   of `resnet18()` / `resnet34()`; the non-trainable moving statistics equal the batch-norm
    ///   scales and offsets (torchvision keeps them as buffers, outside its count).
    /// - resnet50: 25,583,592 trainable + 53,120 non-trainable = 25,636,712, Keras's summary of
    ///   `keras.applications.ResNet50()`.
    /// - googlenet: 6,998,552, recomputed from table 1 of Szegedy et al. 2014 in
    ///   `googLeNetCountFollowsTable1`.
    /// - resnet20: 272,474 trainable, He et al. 2015's "0.27M" CIFAR ResNet-20 with projection
    ///   shortcuts (option B), computed for it and resnet32/44/56/110 in
    ///   `cifarResNetCountsFollowSection4_2`.
    /// - resnet18-cifar / vgg11-cifar / vgg16-cifar: 11,173,962 / 9,231,114 / 14,728,266
    ///   trainable, the counts of kuangliu/pytorch-cifar's `ResNet18()`, `VGG('VGG11')`,
    ///   `VGG('VGG16')` (PyTorch's `parameters()`).
    /// - googlenet-cifar: 5,871,914 trainable, recomputed in `googLeNetCountFollowsTable1`.
    static let expected: [Expected] = [
        Expected(name: "alexnet", inputShape: [227, 227, 3], classes: 1000, trainable: 62_378_344, nonTrainable: 0, shapes: [
            "conv1": [55, 55, 96], "pool1": [27, 27, 96], "conv2": [27, 27, 256], "pool2": [13, 13, 256],
            "conv5": [13, 13, 256], "pool5": [6, 6, 256], "flatten": [9216], "fc7": [4096], "fc8": [1000],
        ]),
        Expected(name: "vgg16", inputShape: [224, 224, 3], classes: 1000, trainable: 138_357_544, nonTrainable: 0, shapes: [
            "block1_conv2": [224, 224, 64], "block1_pool": [112, 112, 64], "block3_conv3": [56, 56, 256],
            "block5_conv3": [14, 14, 512], "block5_pool": [7, 7, 512], "flatten": [25088], "fc2": [4096], "predictions": [1000],
        ]),
        Expected(name: "resnet18", inputShape: [224, 224, 3], classes: 1000, trainable: 11_689_512, nonTrainable: 9_600, shapes: [
            "conv1_conv": [112, 112, 64], "pool1_pool": [56, 56, 64], "conv2_block2_out": [56, 56, 64],
            "conv3_block1_0_conv": [28, 28, 128], "conv3_block2_out": [28, 28, 128], "conv4_block2_out": [14, 14, 256],
            "conv5_block2_out": [7, 7, 512], "avg_pool": [512], "predictions": [1000],
        ]),
        Expected(name: "resnet34", inputShape: [224, 224, 3], classes: 1000, trainable: 21_797_672, nonTrainable: 17_024, shapes: [
            "conv2_block3_out": [56, 56, 64], "conv3_block4_out": [28, 28, 128], "conv4_block6_out": [14, 14, 256],
            "conv5_block3_out": [7, 7, 512], "predictions": [1000],
        ]),
        Expected(name: "resnet50", inputShape: [224, 224, 3], classes: 1000, trainable: 25_583_592, nonTrainable: 53_120, shapes: [
            "conv1_pad": [230, 230, 3], "conv1_conv": [112, 112, 64], "pool1_pad": [114, 114, 64], "pool1_pool": [56, 56, 64],
            "conv2_block1_0_conv": [56, 56, 256], "conv2_block3_out": [56, 56, 256], "conv3_block1_1_conv": [28, 28, 128],
            "conv3_block4_out": [28, 28, 512], "conv4_block6_out": [14, 14, 1024], "conv5_block3_out": [7, 7, 2048],
            "avg_pool": [2048], "predictions": [1000],
        ]),
        Expected(name: "googlenet", inputShape: [224, 224, 3], classes: 1000, trainable: 6_998_552, nonTrainable: 0, shapes: [
            "conv1_7x7_s2": [112, 112, 64], "pool1_3x3_s2": [56, 56, 64], "conv2_3x3": [56, 56, 192], "pool2_3x3_s2": [28, 28, 192],
            "inception_3a_output": [28, 28, 256], "inception_3b_output": [28, 28, 480], "pool3_3x3_s2": [14, 14, 480],
            "inception_4a_output": [14, 14, 512], "inception_4d_output": [14, 14, 528], "inception_4e_output": [14, 14, 832],
            "pool4_3x3_s2": [7, 7, 832], "inception_5b_output": [7, 7, 1024], "avg_pool": [1024], "predictions": [1000],
        ]),
        Expected(name: "resnet20", inputShape: [32, 32, 3], classes: 10, trainable: 272_474, nonTrainable: 1_568, shapes: [
            "conv1_relu": [32, 32, 16], "conv2_block3_out": [32, 32, 16], "conv3_block1_0_bn": [16, 16, 32],
            "conv3_block3_out": [16, 16, 32], "conv4_block3_out": [8, 8, 64], "avg_pool": [64], "predictions": [10],
        ]),
        Expected(name: "resnet18-cifar", inputShape: [32, 32, 3], classes: 10, trainable: 11_173_962, nonTrainable: 9_600, shapes: [
            "conv1_relu": [32, 32, 64], "conv2_block2_out": [32, 32, 64], "conv3_block2_out": [16, 16, 128],
            "conv4_block2_out": [8, 8, 256], "conv5_block2_out": [4, 4, 512], "predictions": [10],
        ]),
        Expected(name: "vgg11-cifar", inputShape: [32, 32, 3], classes: 10, trainable: 9_231_114, nonTrainable: 5_504, shapes: [
            "block1_conv1_relu": [32, 32, 64], "block3_conv2_relu": [8, 8, 256], "block5_pool": [1, 1, 512], "predictions": [10],
        ]),
        Expected(name: "vgg16-cifar", inputShape: [32, 32, 3], classes: 10, trainable: 14_728_266, nonTrainable: 8_448, shapes: [
            "block1_conv2_relu": [32, 32, 64], "block4_pool": [2, 2, 512], "block5_pool": [1, 1, 512], "avg_pool": [512],
            "predictions": [10],
        ]),
        Expected(name: "googlenet-cifar", inputShape: [32, 32, 3], classes: 10, trainable: 5_871_914, nonTrainable: 14_304, shapes: [
            "conv1_3x3_relu": [32, 32, 192], "pool1_3x3_s2": [16, 16, 192], "inception_3b_output": [16, 16, 480],
            "inception_4e_output": [8, 8, 832], "inception_5b_output": [4, 4, 1024], "predictions": [10],
        ]),
    ]

    /// The output shape of the layer called `layer`, without the batch axis.
    static func shape(of layer: String, in model: Model) -> [Int?]? {
        model.layers.firstIndex { $0.name == layer }.map { model.outputShapes[$0] }
    }

    @Test func everyArchitectureIsInTheCatalog() throws {
        let names = Set(ModelZoo.catalog.map(\.name))
        #expect(Self.expected.allSatisfy { names.contains($0.name) })
        #expect(Self.expected.count == 11)
    }

    /// Published parameter totals and the shape arithmetic at the published input size (no
    /// forward pass: `outputShapes` is computed when the model is built).
    @Test(arguments: expected)
    func parameterCountsAndShapes(_ expected: Expected) throws {
        let model = try ModelZoo.model(named: expected.name, inputShape: expected.inputShape, classes: expected.classes)
        let counts = model.parameterCounts
        #expect(counts.trainable == expected.trainable)
        #expect(counts.nonTrainable == expected.nonTrainable)
        for (layer, shape) in expected.shapes {
            #expect(Self.shape(of: layer, in: model) == shape.map(Optional.some), "\(expected.name): \(layer)")
        }
        #expect(model.outputShape == [expected.classes])
    }

    /// Keras prints these totals for `VGG16()` and `ResNet50()`.
    @Test func summariesPrintKerasTotals() throws {
        let vgg = try ModelZoo.model(named: "vgg16")
        #expect(vgg.summary().contains(" Total params: 138,357,544 (527.79 MB)"))
        #expect(vgg.layers.map(\.name) == [
            "block1_conv1", "block1_conv2", "block1_pool", "block2_conv1", "block2_conv2", "block2_pool",
            "block3_conv1", "block3_conv2", "block3_conv3", "block3_pool", "block4_conv1", "block4_conv2", "block4_conv3",
            "block4_pool", "block5_conv1", "block5_conv2", "block5_conv3", "block5_pool", "flatten", "fc1", "fc2", "predictions",
        ])
        let resnet = try ModelZoo.model(named: "resnet50", inputShape: [nil, nil, 3])
        let summary = resnet.summary()
        #expect(summary.contains(" Total params: 25,636,712 (97.80 MB)"))
        #expect(summary.contains(" Trainable params: 25,583,592 (97.59 MB)"))
        #expect(summary.contains(" Non-trainable params: 53,120 (207.50 KB)"))
    }

    /// AlexNet's layers, each counted from Krizhevsky et al.'s sizes (weights + biases).
    @Test func alexNetCountsFollowThePaper() throws {
        let model = try ModelZoo.model(named: "alexnet")
        let counts = Dictionary(uniqueKeysWithValues: model.layers.map { ($0.name, $0.parameterCount) })
        func conv(_ k: Int, _ cIn: Int, _ cOut: Int) -> Int { k * k * cIn * cOut + cOut }
        #expect(counts["conv1"] == conv(11, 3, 96))
        #expect(counts["conv2"] == conv(5, 96, 256))
        #expect(counts["conv3"] == conv(3, 256, 384))
        #expect(counts["conv4"] == conv(3, 384, 384))
        #expect(counts["conv5"] == conv(3, 384, 256))
        #expect(counts["fc6"] == conv(1, 6 * 6 * 256, 4096))
        #expect(counts["fc7"] == conv(1, 4096, 4096))
        #expect(counts["fc8"] == conv(1, 4096, 1000))
        #expect(model.layers.map(\.kerasClassName).filter { $0 == "Dropout" }.count == 2)
        // At 224x224 the valid 11x11/4 convolution gives 54x54 and pool5 5x5 (see AlexNet.swift).
        let at224 = try ModelZoo.model(named: "alexnet", inputShape: [224, 224, 3])
        #expect(Self.shape(of: "conv1", in: at224) == [54, 54, 96])
        #expect(Self.shape(of: "pool5", in: at224) == [5, 5, 256])
        #expect(at224.parameterCounts.trainable == 50_844_008)
    }

    /// GoogLeNet's total from table 1's filter counts, module by module, for both variants.
    @Test func googLeNetCountFollowsTable1() throws {
        // #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj: table 1, rows 3a to 5b.
        let table: [[Int]] = [
            [64, 96, 128, 16, 32, 32], [128, 128, 192, 32, 96, 64], [192, 96, 208, 16, 48, 64], [160, 112, 224, 24, 64, 64],
            [128, 128, 256, 24, 64, 64], [112, 144, 288, 32, 64, 64], [256, 160, 320, 32, 128, 128],
            [256, 160, 320, 32, 128, 128], [384, 192, 384, 48, 128, 128],
        ]
        /// Parameters of the convolutions `(kernel, in, out)`: weights, and per output channel
        /// `perChannel` more (a bias, or a batch-norm scale and offset).
        func count(_ convs: [(Int, Int, Int)], perChannel: Int) -> Int {
            convs.reduce(0) { $0 + $1.0 * $1.0 * $1.1 * $1.2 + perChannel * $1.2 }
        }
        func inceptionConvs(from channels: Int) -> (convs: [(Int, Int, Int)], channels: Int) {
            var c = channels, convs: [(Int, Int, Int)] = []
            for row in table {
                convs += [(1, c, row[0]), (1, c, row[1]), (3, row[1], row[2]), (1, c, row[3]), (5, row[3], row[4]), (1, c, row[5])]
                c = row[0] + row[2] + row[4] + row[5]
            }
            return (convs, c)
        }
        let paper = inceptionConvs(from: 192)
        let paperTotal = count([(7, 3, 64), (1, 64, 64), (3, 64, 192)] + paper.convs, perChannel: 1) + paper.channels * 1000 + 1000
        #expect(paper.channels == 1024)
        #expect(paperTotal == 6_998_552)
        #expect(try ModelZoo.model(named: "googlenet").parameterCounts.trainable == paperTotal)
        // The 32x32 variant: a 3x3 stem of 192, batch norm (scale and offset) in place of biases.
        let cifarConvs = [(3, 3, 192)] + paper.convs
        let cifar = try ModelZoo.model(named: "googlenet-cifar").parameterCounts
        #expect(cifar.trainable == count(cifarConvs, perChannel: 2) + 1024 * 10 + 10)
        #expect(cifar.nonTrainable == count(cifarConvs.map { ($0.0, 0, $0.2) }, perChannel: 2))
    }

    /// The CIFAR ResNets of He et al. 2015, section 4.2 (depth 6n + 2: 3 stages of n basic blocks,
    /// 2n 3x3 convolutions each), with two projection shortcuts (option B), counted layer by layer.
    @Test(arguments: [(20, 3), (32, 5), (44, 7), (56, 9), (110, 18)])
    func cifarResNetCountsFollowSection4_2(depth: Int, n: Int) throws {
        let conv3x3 = { (cIn: Int, cOut: Int) in 9 * cIn * cOut }
        let stem = conv3x3(3, 16)
        let stage1 = 2 * n * conv3x3(16, 16)
        let stage2 = conv3x3(16, 32) + (2 * n - 1) * conv3x3(32, 32) + 16 * 32  // + 1x1 projection
        let stage3 = conv3x3(32, 64) + (2 * n - 1) * conv3x3(64, 64) + 32 * 64
        let normalizedChannels = 16 + 2 * n * 16 + (2 * n + 1) * 32 + (2 * n + 1) * 64  // one batch norm per convolution
        let model = try ModelZoo.model(named: "resnet\(depth)")
        #expect(model.layers.filter { $0.kerasClassName == "Conv2D" }.count == depth - 1 + 2)  // + the 2 projections
        #expect(model.outputShape == [10])
        let counts = model.parameterCounts
        #expect(counts.trainable == stem + stage1 + stage2 + stage3 + 2 * normalizedChannels + 64 * 10 + 10)
        #expect(counts.nonTrainable == 2 * normalizedChannels)
        if depth == 20 { #expect(abs(Double(counts.trainable) - 270_000) < 5_000) }  // the paper's "0.27M"
        if depth == 110 { #expect(abs(Double(counts.trainable) - 1_700_000) < 50_000) }  // the paper's "1.7M"
    }

    /// The residual and inception blocks through real tensors at the ImageNet size agree with
    /// the shape arithmetic (the padding layers, strided 1x1 shortcuts and concatenations).
    @Test(arguments: ["resnet50", "googlenet"])
    func forwardAt224MatchesShapeArithmetic(name: String) throws {
        var model = try ModelZoo.model(named: name, classes: 7)
        let joins: Set = ["ZeroPadding2D", "MaxPooling2D", "Add", "Concatenate", "GlobalAveragePooling2D"]
        let probed = Set(model.layers.indices.filter { joins.contains(model.layers[$0].kerasClassName) })
        var context = ForwardContext(training: false)
        let result = try model.forward(Tensor(shape: [1, 224, 224, 3], repeating: 0.5), context: &context, outputs: probed)
        #expect(result.output.shape == [1, 7])
        for index in probed {
            #expect(result.intermediate[index]?.shape == [1] + model.outputShapes[index].map { $0 ?? -1 }, "\(model.layers[index].name)")
        }
    }

    /// Every architecture on its smallest convenient input: a forward pass in training mode
    /// (batch statistics, dropout) and the gradient of a cross-entropy loss with respect to every
    /// weight, which must be finite and reach every layer that has weights.
    @Test(arguments: [("alexnet", 67), ("vgg16", 32), ("resnet18", 32), ("resnet34", 32), ("resnet50", 32), ("googlenet", 32),
                      ("resnet20", 32), ("resnet32", 32), ("resnet18-cifar", 32), ("vgg11-cifar", 32), ("vgg16-cifar", 32), ("googlenet-cifar", 32)])
    func forwardAndBackwardOnATinyInput(name: String, size: Int) throws {
        var model = try ModelZoo.model(named: name, inputShape: [size, size, 3], classes: 3, seed: 1)
        var generator = RandomGenerator(seed: 2)
        let images = Tensor.randomUniform(shape: [2, size, size, 3], generator: &generator)
        let tape = GradientTape()
        let watched = model.trainableWeights.map(tape.watch)
        model.trainableWeights = watched
        var context = ForwardContext(training: true, generator: RandomGenerator(seed: 3))
        let probabilities = try model.forward(images, context: &context).output
        #expect(probabilities.shape == [2, 3])
        let loss = try categoricalCrossEntropy(probabilities: probabilities, labels: [0, 2])
        let gradients = try tape.gradient(of: loss, withRespectTo: watched)
        #expect(zip(gradients, watched).allSatisfy { $0.shape == $1.shape })
        #expect(gradients.allSatisfy { $0.scalars.allSatisfy(\.isFinite) })
        var offset = 0
        for layer in model.layers {
            let count = layer.trainableWeights.count
            let layerGradients = gradients[offset..<offset + count]
            offset += count
            if count > 0 {
                #expect(layerGradients.contains { $0.scalars.contains { $0 != 0 } }, "\(name): no gradient reaches \(layer.name)")
            }
        }
    }

    /// Training runs end to end on a residual net (batch norm, `Add`, functional graph): the loss
    /// falls while it memorises a few random 16x16 images.
    @Test func resNet20LearnsATinyBatch() throws {
        var model = try ModelZoo.model(named: "resnet20", inputShape: [16, 16, 3], classes: 4, seed: 5)
        var generator = RandomGenerator(seed: 6)
        let images = Tensor.randomUniform(shape: [16, 16, 16, 3], generator: &generator)
        model.compile(optimizer: Adam(learningRate: 0.01))
        let history = try model.fit(x: images, y: (0..<16).map { $0 % 4 }, epochs: 6, batchSize: 16, verbosity: .silent)
        let losses = history.values("loss")
        #expect(losses.last! < losses.first!)
    }

    /// An L2 penalty (`convnet train --l2`) applies to graph models too: same wiring and weights,
    /// a penalty on every Conv2D and Dense kernel. Dropout still needs a chain to insert into.
    @Test func penaltiesApplyToGraphModels() throws {
        let plain = try ModelZoo.model(named: "resnet20", seed: 3)
        let penalized = try ModelZoo.model(named: "resnet20", seed: 3, regularizer: .l2(1e-4))
        #expect(penalized.inbound == plain.inbound)
        #expect(penalized.trainableWeights.map(\.scalars) == plain.trainableWeights.map(\.scalars))
        let kernels = penalized.layers.filter { $0 is Conv2D || $0 is Dense }
        #expect(kernels.count == 22)  // 19 convs + 2 projection shortcuts + the classifier
        for layer in kernels {
            let penalty = try #require(try layer.regularizationLoss(), "\(layer.name)")
            #expect(penalty.scalars[0] > 0)
        }
    }

    /// `dropout:` works on graph models too: a `Dropout` after the global average pool feeds the
    /// classifier; a model's own dropout layers take the rate instead of getting a second one.
    @Test func dropoutAppliesToGraphModels() throws {
        let plain = try ModelZoo.model(named: "resnet20", seed: 3)
        let dropped = try ModelZoo.model(named: "resnet20", seed: 3, dropout: 0.3)
        #expect(dropped.layers.count == plain.layers.count + 1)
        let pool = try #require(dropped.layers.firstIndex { $0.name == "avg_pool" })
        let dropout = try #require(dropped.layers[pool + 1] as? Dropout)
        #expect(dropout.rate == 0.3 && dropped.inbound[pool + 1] == [pool])
        #expect(dropped.inbound.last == [pool + 1] && dropped.layers.last?.name == "predictions")
        #expect(dropped.trainableWeights.map(\.scalars) == plain.trainableWeights.map(\.scalars))
        // Every residual join still reads the same layers (by name) as in the plain model.
        func wiring(_ model: Model) -> [[String]] {
            model.inbound.map { $0.map { $0 == Model.inputNode ? "input" : model.layers[$0].name } }
        }
        #expect(Array(wiring(dropped)[..<(pool + 1)]) == Array(wiring(plain)[..<(pool + 1)]))
        // Same images, inference mode: dropout is the identity, so the outputs agree.
        var generator = RandomGenerator(seed: 4)
        let images = Tensor.randomUniform(shape: [2, 32, 32, 3], generator: &generator)
        #expect(try dropped.predict(images) == plain.predict(images))

        let googLeNet = try ModelZoo.model(named: "googlenet-cifar", dropout: 0.2)
        #expect(googLeNet.layers.count == (try ModelZoo.model(named: "googlenet-cifar")).layers.count)
        #expect(googLeNet.layers.compactMap { ($0 as? Dropout)?.rate } == [0.2])
        // AlexNet keeps one dropout after fc6 and fc7 (its own, at the new rate) and gets one after Flatten.
        let alexNet = try ModelZoo.model(named: "alexnet", inputShape: [67, 67, 3], classes: 3, dropout: 0.25)
        #expect(alexNet.layers.compactMap { ($0 as? Dropout)?.rate } == [0.25, 0.25, 0.25])
        #expect(alexNet.isSequential)
    }

    /// Nets ending in global pooling take any image size (here open sizes), the VGG-style and
    /// AlexNet ones any size the arithmetic allows; a too-small image names the layer.
    @Test func inputSizes() throws {
        let open = try ModelZoo.model(named: "resnet20", inputShape: [nil, nil, 3], classes: 5)
        #expect(open.outputShape == [5])
        #expect(try open.predict(Tensor(shape: [1, 24, 40, 3], repeating: 0.3)).shape == [1, 5])
        #expect(try ModelZoo.model(named: "vgg16", inputShape: [64, 48, 3], classes: 2).outputShapes.dropLast(4).last == [2, 1, 512])
        #expect(throws: ConvNetError.self) { try ModelZoo.model(named: "vgg16", inputShape: [16, 16, 3]) }
        #expect(throws: ConvNetError.self) { try ModelZoo.model(named: "alexnet", inputShape: [66, 66, 3]) }
    }

    /// Keras's order of ResNet50's layers (`keras.applications.ResNet50().layers`): by depth, so
    /// a projection block lists `0_conv` beside `3_conv`. Keras weight files follow this order.
    static func kerasResNet50WeightedLayers() -> [String] {
        var names = ["conv1_conv", "conv1_bn"]
        for (stage, blocks) in [3, 4, 6, 3].enumerated() {
            for block in 1...blocks {
                let prefix = "conv\(stage + 2)_block\(block)_"
                names += ["1_conv", "1_bn", "2_conv", "2_bn"].map { prefix + $0 }
                names += (block == 1 ? ["0_conv", "3_conv", "0_bn", "3_bn"] : ["3_conv", "3_bn"]).map { prefix + $0 }
            }
        }
        return names + ["predictions"]
    }

    /// A synthetic ResNet50 weights file in Keras 2's `save_weights` layout and naming (what Keras
    /// applications distribute) loads by position into the zoo's `resnet50`, every array landing in
    /// the layer of its name; then ConvNet's own `saveWeights`/`loadWeights` round trip gives a
    /// fresh model identical outputs.
    @Test func kerasApplicationWeightsLoadByPosition() throws {
        var model = try ModelZoo.model(named: "resnet50", inputShape: [32, 32, 3], classes: 5, seed: 1)
        #expect(Array(model.layers.map(\.name).prefix(19)) == [
            "conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "pool1_pad", "pool1_pool",
            "conv2_block1_1_conv", "conv2_block1_1_bn", "conv2_block1_1_relu", "conv2_block1_2_conv", "conv2_block1_2_bn",
            "conv2_block1_2_relu", "conv2_block1_0_conv", "conv2_block1_3_conv", "conv2_block1_0_bn", "conv2_block1_3_bn",
            "conv2_block1_add", "conv2_block1_out", "conv2_block2_1_conv",
        ])
        #expect(model.layers.count == 176)  // Keras: 177 with the InputLayer

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-classic-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        var generator = RandomGenerator(seed: 9)
        var stored: [String: [Tensor]] = [:]
        var fileLayers = [KerasLayerWeights(name: "input_1", weights: []), KerasLayerWeights(name: "conv1_pad", weights: [])]
        for name in Self.kerasResNet50WeightedLayers() {
            let layer = try #require(model.layers.first { $0.name == name })
            let values = zip(layer.weightNames, layer.trainableWeights + layer.nonTrainableWeights).map { weight, value in
                weight == "moving_variance"
                    ? Tensor.randomUniform(shape: value.shape, low: 0.5, high: 1.5, generator: &generator)
                    : Tensor.randomUniform(shape: value.shape, low: -0.1, high: 0.1, generator: &generator)
            }
            stored[name] = values
            fileLayers.append(KerasLayerWeights(name: name, weights: zip(layer.weightNames, values).map {
                KerasWeight(name: "\(name)/\($0):0", value: $1)
            }))
        }
        let kerasFile = directory.appendingPathComponent("resnet50_weights_tf_dim_ordering_tf_kernels.h5").path
        try KerasWeightsFile(layers: fileLayers, kerasVersion: "2.2.4", backend: "tensorflow").writeLegacyWeights(to: kerasFile)
        try model.loadWeights(from: kerasFile)
        for layer in model.layers where !layer.weightNames.isEmpty {
            #expect(layer.trainableWeights + layer.nonTrainableWeights == stored[layer.name], "\(layer.name)")
        }

        let roundTrip = directory.appendingPathComponent("resnet50.h5").path
        try model.saveWeights(to: roundTrip)
        var fresh = try ModelZoo.model(named: "resnet50", inputShape: [32, 32, 3], classes: 5, seed: 2)
        try fresh.loadWeights(from: roundTrip)
        let images = Tensor.randomUniform(shape: [2, 32, 32, 3], generator: &generator)
        let output = try model.predict(images)
        #expect(output.scalars.allSatisfy { $0.isFinite })
        #expect(try fresh.predict(images) == output)
    }
}
