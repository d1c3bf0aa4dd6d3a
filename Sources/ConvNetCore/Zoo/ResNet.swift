/// Residual networks: K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image
/// Recognition", CVPR 2016 (arXiv:1512.03385). Table 1 gives the ImageNet layouts, section 4.2 the
/// CIFAR-10 one. Every block is built with the functional API and joined by `Add`.
extension ClassicArchitectures {
    /// One stage of a ResNet: `blocks` residual blocks of the same width.
    struct ResidualStage {
        var filters: Int
        var blocks: Int
        /// The stride of the stage's first block (2 halves the feature map).
        var strides: Int
    }

    /// The two kinds of residual block of He et al. (section 3.3 and figure 5).
    enum ResidualBlock {
        /// Two 3x3 convolutions (ResNet-18/34, the CIFAR nets); output width `filters`.
        case basic
        /// 1x1 reduce, 3x3, 1x1 expand (ResNet-50 and deeper); output width `4 · filters`.
        case bottleneck

        var expansion: Int { self == .basic ? 1 : 4 }
    }

    /// The layouts of table 1: blocks per stage (conv2_x ... conv5_x) and block kind.
    static let imageNetResNets: [Int: (blocks: [Int], block: ResidualBlock)] = [
        18: ([2, 2, 2, 2], .basic),
        34: ([3, 4, 6, 3], .basic),
        50: ([3, 4, 6, 3], .bottleneck),
    ]

    /// A basic block (figure 5, left): 3x3 conv–BN–ReLU, 3x3 conv–BN, plus the shortcut, ReLU.
    ///
    /// The shortcut is the identity, or with `projection` a 1x1 convolution with the block's
    /// stride and batch norm (option B of section 3.3). The strided 3x3 convolution pads one pixel
    /// on every side, as torchvision's does, so a 2n-pixel map gives n rows aligned as PyTorch's.
    static func basicBlock(_ x: SymbolicTensor, filters: Int, strides: Int, projection: Bool, unit: ConvUnit,
                           name: String) -> SymbolicTensor {
        let shortcut = projection ? unit(x, filters, kernel: 1, strides: strides, relu: false, name: name + "_0") : x
        var y = unit(x, filters, kernel: 3, strides: strides, padding: strides == 1 ? .same : .uniform(1), name: name + "_1")
        y = unit(y, filters, kernel: 3, relu: false, name: name + "_2")
        return join(shortcut, y, name: name)
    }

    /// A bottleneck block (figure 5, right) as Keras applications' `block1`: 1x1 conv–BN–ReLU
    /// carrying the block's stride (the original "v1" placement), 3x3 conv–BN–ReLU, 1x1 conv to
    /// `4 · filters`–BN, plus the shortcut (identity, or 1x1 conv with the stride and BN), ReLU.
    static func bottleneckBlock(_ x: SymbolicTensor, filters: Int, strides: Int, projection: Bool, unit: ConvUnit,
                                name: String) -> SymbolicTensor {
        let shortcut = projection ? unit(x, 4 * filters, kernel: 1, strides: strides, relu: false, name: name + "_0") : x
        var y = unit(x, filters, kernel: 1, strides: strides, name: name + "_1")
        y = unit(y, filters, kernel: 3, name: name + "_2")
        y = unit(y, 4 * filters, kernel: 1, relu: false, name: name + "_3")
        return join(shortcut, y, name: name)
    }

    /// `relu(shortcut + residual)`, as Keras names them: `<block>_add`, `<block>_out`.
    private static func join(_ shortcut: SymbolicTensor, _ residual: SymbolicTensor, name: String) -> SymbolicTensor {
        Activation(.relu, name: name + "_out")(Add(name: name + "_add")([shortcut, residual]))
    }

    /// The residual stages, named as Keras names ResNet50's: `conv2_block1_...` onwards. A block
    /// projects its shortcut when its stride or width differs from its input's (the first block
    /// of every stage, except the first stage of a basic-block net, whose width does not change).
    static func residualStages(_ input: SymbolicTensor, inputChannels: Int, stages: [ResidualStage], block: ResidualBlock,
                               unit: ConvUnit) -> SymbolicTensor {
        var x = input, channels = inputChannels
        for (stageIndex, stage) in stages.enumerated() {
            for index in 0..<stage.blocks {
                let strides = index == 0 ? stage.strides : 1
                let projection = strides != 1 || channels != block.expansion * stage.filters
                let name = "conv\(stageIndex + 2)_block\(index + 1)"
                switch block {
                case .basic:
                    x = basicBlock(x, filters: stage.filters, strides: strides, projection: projection, unit: unit, name: name)
                case .bottleneck:
                    x = bottleneckBlock(x, filters: stage.filters, strides: strides, projection: projection, unit: unit, name: name)
                }
                channels = block.expansion * stage.filters
            }
        }
        return x
    }

    /// ResNet-18, -34 and -50 for 224x224 ImageNet images (table 1): 7x7/2 convolution of 64
    /// after zero padding 3, batch norm, ReLU, 3x3/2 max pool after zero padding 1, stages of
    /// 64/128/256/512 filters with strides 1/2/2/2, global average pooling, softmax classifier.
    /// Any input of at least 32x32 works (the map is halved five times); open sizes work too.
    ///
    /// - **ResNet-50** is Keras applications' `ResNet50`, layer by layer: convolutions with bias,
    ///   batch norm with `epsilon = 1.001e-5`, Glorot initialisation, Keras's layer names and
    ///   order (so its ImageNet weights load by position). Parameters at 224x224x3 with 1000
    ///   classes: 25,583,592 trainable + 53,120 non-trainable (moving statistics) = 25,636,712, the
    ///   total Keras prints for `keras.applications.ResNet50()`.
    /// - **ResNet-18 and -34** follow torchvision's `resnet18`/`resnet34`: convolutions without
    ///   bias, batch norm with PyTorch's defaults, He initialisation, projection shortcuts only
    ///   where the shape changes. Trainable parameters: 11,689,512 and 21,797,672, torchvision's
    ///   counts (`sum(p.numel() for p in model.parameters())`); the moving statistics, which PyTorch
    ///   keeps as buffers, add 9,600 and 17,024 non-trainable ones.
    static func resNet(depth: Int, inputShape: LayerShape, classes: Int, seed: UInt64) throws -> Model {
        guard let layout = imageNetResNets[depth] else {
            throw ConvNetError.argument("ResNet-\(depth) is not in the zoo; choose 18, 34 or 50")
        }
        let unit = layout.block == .bottleneck
            ? ConvUnit(batchNorm: .kerasResNet, useBias: true, initializer: .glorotUniform, convSuffix: "_conv")
            : ConvUnit(batchNorm: .pytorch, useBias: false, initializer: .heNormal, convSuffix: "_conv")
        let input = SymbolicTensor.input(shape: inputShape)
        var x = ZeroPadding2D(3, name: "conv1_pad")(input)
        x = unit(x, 64, kernel: 7, strides: 2, padding: .valid, name: "conv1")
        x = ZeroPadding2D(1, name: "pool1_pad")(x)  // zeros are harmless after a ReLU
        x = MaxPooling2D(poolSize: 3, strides: 2, name: "pool1_pool")(x)
        let stages = zip([64, 128, 256, 512], layout.blocks).enumerated().map { index, stage in
            ResidualStage(filters: stage.0, blocks: stage.1, strides: index == 0 ? 1 : 2)
        }
        x = residualStages(x, inputChannels: 64, stages: stages, block: layout.block, unit: unit)
        return try Model(kerasOrderedName: "resnet\(depth)", input: input, output: classifierHead(x, classes: classes),
                         seed: seed)
    }

    /// A ResNet of basic blocks for 32x32 images: a 3x3 stride-1 convolution–BN–ReLU stem (no max
    /// pool), the stages, global average pooling, softmax classifier; torchvision-style units.
    private static func cifarResNet(name: String, stemFilters: Int, stages: [ResidualStage], inputShape: LayerShape,
                                    classes: Int, seed: UInt64) throws -> Model {
        let unit = ConvUnit(batchNorm: .pytorch, useBias: false, initializer: .heNormal, convSuffix: "_conv")
        let input = SymbolicTensor.input(shape: inputShape)
        let stem = unit(input, stemFilters, kernel: 3, name: "conv1")
        let features = residualStages(stem, inputChannels: stemFilters, stages: stages, block: .basic, unit: unit)
        return try Model(kerasOrderedName: name, input: input, output: classifierHead(features, classes: classes), seed: seed)
    }

    /// The CIFAR-10 ResNets of He et al., section 4.2: depth 6n + 2 (ResNet-20, 32, 44, 56, 110
    /// for n = 3, 5, 7, 9, 18). A 3x3 convolution of 16, three stages of n basic blocks with 16, 32
    /// and 64 filters on 32x32, 16x16 and 8x8 maps (stride 2 on the first convolution of stages 2
    /// and 3), global average pooling, softmax.
    ///
    /// Shortcuts where the shape changes are 1x1 projections with batch norm (option B); the
    /// paper's CIFAR nets use option A (zero-padded identity), which needs a channel-padding layer
    /// ConvNet does not have. The two projections add 2,560 weights and 192 batch-norm scales and
    /// offsets to the paper's counts. Trainable parameters with 10 classes:
    ///
    ///     convolutions  432 + 2n·2304 + (4608 + 512 + (2n − 1)·9216) + (18432 + 2048 + (2n − 1)·36864)
    ///     batch norm    2 · (16 + 2n·16 + 2n·32 + 32 + 2n·64 + 64)
    ///     dense         64·10 + 10
    ///
    /// ResNet-20: 270,256 + 1,568 + 650 = 272,474 (the paper's "0.27M"), and as many non-trainable
    /// (batch-norm moving statistics) as batch-norm parameters.
    static func resNetCIFAR(depth: Int, inputShape: LayerShape, classes: Int, seed: UInt64) throws -> Model {
        guard depth >= 8, (depth - 2) % 6 == 0 else {
            throw ConvNetError.argument("a CIFAR ResNet has depth 6n + 2 (20, 32, 44, 56, 110), got \(depth)")
        }
        let blocks = (depth - 2) / 6
        return try cifarResNet(name: "resnet\(depth)", stemFilters: 16,
                               stages: [16, 32, 64].enumerated().map { ResidualStage(filters: $1, blocks: blocks, strides: $0 == 0 ? 1 : 2) },
                               inputShape: inputShape, classes: classes, seed: seed)
    }

    /// ResNet-18 for 32x32 images, as `ResNet18()` of kuangliu/pytorch-cifar: the ImageNet stages
    /// ([2, 2, 2, 2] basic blocks of 64–512 filters on 32, 16, 8 and 4-pixel maps) behind a 3x3
    /// stride-1 stem without max pool. Trainable parameters with 10 classes: 11,173,962
    /// (torchvision's ResNet-18 less 7,680 for the smaller stem and 507,870 for the smaller
    /// classifier); 9,600 non-trainable.
    static func resNet18CIFAR(inputShape: LayerShape, classes: Int, seed: UInt64) throws -> Model {
        try cifarResNet(name: "resnet18-cifar", stemFilters: 64,
                        stages: [64, 128, 256, 512].enumerated().map { ResidualStage(filters: $1, blocks: 2, strides: $0 == 0 ? 1 : 2) },
                        inputShape: inputShape, classes: classes, seed: seed)
    }
}
