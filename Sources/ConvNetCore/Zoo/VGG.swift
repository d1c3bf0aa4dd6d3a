extension ClassicArchitectures {
    /// The convolution widths of each VGG block, from K. Simonyan, A. Zisserman, "Very Deep
    /// Convolutional Networks for Large-Scale Image Recognition", ICLR 2015, table 1:
    /// configuration A (VGG-11) and D (VGG-16). Every block ends in a 2x2 stride-2 max pool.
    static let vggBlocks: [Int: [[Int]]] = [
        11: [[64], [128], [256, 256], [512, 512], [512, 512]],
        16: [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
    ]

    /// The VGG blocks: 3x3 same convolutions, each block closed by a 2x2 max pool. Layers are named
    /// as in Keras applications: `block1_conv1`, ..., `block1_pool`.
    static func vggFeatures(_ input: SymbolicTensor, depth: Int, unit: ConvUnit) -> SymbolicTensor {
        var x = input
        for (block, widths) in vggBlocks[depth, default: []].enumerated() {
            for (index, filters) in widths.enumerated() {
                x = unit(x, filters, kernel: 3, name: "block\(block + 1)_conv\(index + 1)")
            }
            x = MaxPooling2D(poolSize: 2, strides: 2, name: "block\(block + 1)_pool")(x)
        }
        return x
    }

    /// VGG16 (configuration D of Simonyan & Zisserman, table 1) exactly as Keras applications'
    /// `VGG16(include_top=True)`: the 13 convolutions with ReLU, flatten, `fc1` and `fc2` of 4096
    /// with ReLU, `predictions`; no dropout (the paper's dropout on fc1/fc2 is a training choice:
    /// `ModelZoo.model(named:dropout:)` adds it). Layer names and order are Keras's, so Keras's
    /// VGG16 weights load by position.
    ///
    /// Parameters at 224x224x3 with 1000 classes: 14,714,688 in the convolutions + 102,764,544
    /// (fc1, 7·7·512 → 4096) + 16,781,312 (fc2) + 4,097,000 = 138,357,544, the total Keras prints
    /// for `keras.applications.VGG16()`. Any input of at least 32x32 works (five halvings).
    static func vgg16(inputShape: LayerShape, classes: Int, seed: UInt64) throws -> Model {
        let input = SymbolicTensor.input(shape: inputShape)
        var x = Flatten(name: "flatten")(vggFeatures(input, depth: 16, unit: .plain))
        x = Dense(4096, activation: .relu, name: "fc1")(x)
        x = Dense(4096, activation: .relu, name: "fc2")(x)
        x = Dense(classes, activation: .softmax, name: "predictions")(x)
        return try Model(kerasOrderedName: "vgg16", input: input, output: x, seed: seed)
    }

    /// VGG for 32x32 images, as the `VGG('VGG11')` / `VGG('VGG16')` of kuangliu/pytorch-cifar:
    /// every 3x3 convolution (with bias) followed by batch normalization and ReLU, the five max
    /// pools taking 32x32 to 1x1x512, then global average pooling and one dense layer to the
    /// classes in place of the 4096-wide top. He-normal initialisation.
    ///
    /// Trainable parameters with 10 classes: VGG-11 9,231,114 and VGG-16 14,728,266 (convolutions
    /// 9,220,480 / 14,714,688, batch-norm scales and offsets 5,504 / 8,448, dense 5,130), plus as
    /// many non-trainable moving statistics as batch-norm scales and offsets.
    static func vggCIFAR(depth: Int, inputShape: LayerShape, classes: Int, seed: UInt64) throws -> Model {
        let unit = ConvUnit(batchNorm: .pytorch, useBias: true, initializer: .heNormal, convSuffix: "")
        let input = SymbolicTensor.input(shape: inputShape)
        let output = classifierHead(vggFeatures(input, depth: depth, unit: unit), classes: classes)
        return try Model(kerasOrderedName: "vgg\(depth)-cifar", input: input, output: output, seed: seed)
    }
}
