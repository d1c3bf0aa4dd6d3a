/// GoogLeNet (Inception v1): C. Szegedy et al., "Going Deeper with Convolutions", CVPR 2015
/// (arXiv:1409.4842), table 1 and figure 2(b). Layer names follow the authors' Caffe model
/// (`inception_3a/1x1` and so on) with `_` in place of `/`, which HDF5 reads as a path separator.
extension ClassicArchitectures {
    /// The widths of one inception module, the columns of table 1.
    struct InceptionModule {
        var name: String
        var n1x1: Int
        var reduce3x3: Int, n3x3: Int
        var reduce5x5: Int, n5x5: Int
        var poolProjection: Int

        var outputChannels: Int { n1x1 + n3x3 + n5x5 + poolProjection }
    }

    /// Table 1's inception modules; a 3x3 stride-2 max pool follows 3b and 4e.
    static let inceptionModules: [InceptionModule] = [
        InceptionModule(name: "3a", n1x1: 64, reduce3x3: 96, n3x3: 128, reduce5x5: 16, n5x5: 32, poolProjection: 32),
        InceptionModule(name: "3b", n1x1: 128, reduce3x3: 128, n3x3: 192, reduce5x5: 32, n5x5: 96, poolProjection: 64),
        InceptionModule(name: "4a", n1x1: 192, reduce3x3: 96, n3x3: 208, reduce5x5: 16, n5x5: 48, poolProjection: 64),
        InceptionModule(name: "4b", n1x1: 160, reduce3x3: 112, n3x3: 224, reduce5x5: 24, n5x5: 64, poolProjection: 64),
        InceptionModule(name: "4c", n1x1: 128, reduce3x3: 128, n3x3: 256, reduce5x5: 24, n5x5: 64, poolProjection: 64),
        InceptionModule(name: "4d", n1x1: 112, reduce3x3: 144, n3x3: 288, reduce5x5: 32, n5x5: 64, poolProjection: 64),
        InceptionModule(name: "4e", n1x1: 256, reduce3x3: 160, n3x3: 320, reduce5x5: 32, n5x5: 128, poolProjection: 128),
        InceptionModule(name: "5a", n1x1: 256, reduce3x3: 160, n3x3: 320, reduce5x5: 32, n5x5: 128, poolProjection: 128),
        InceptionModule(name: "5b", n1x1: 384, reduce3x3: 192, n3x3: 384, reduce5x5: 48, n5x5: 128, poolProjection: 128),
    ]

    /// An inception module (figure 2(b)): the concatenation, in this order, of a 1x1 convolution;
    /// a 1x1 reduction then a 3x3 convolution; a 1x1 reduction then a 5x5 convolution; a 3x3
    /// stride-1 max pool then a 1x1 projection. All keep the map size (same padding).
    static func inceptionModule(_ x: SymbolicTensor, _ module: InceptionModule, unit: ConvUnit) -> SymbolicTensor {
        let name = "inception_\(module.name)"
        let branch1 = unit(x, module.n1x1, kernel: 1, name: name + "_1x1")
        let reduced3 = unit(x, module.reduce3x3, kernel: 1, name: name + "_3x3_reduce")
        let branch3 = unit(reduced3, module.n3x3, kernel: 3, name: name + "_3x3")
        let reduced5 = unit(x, module.reduce5x5, kernel: 1, name: name + "_5x5_reduce")
        let branch5 = unit(reduced5, module.n5x5, kernel: 5, name: name + "_5x5")
        let pooled = MaxPooling2D(poolSize: 3, strides: 1, padding: .same, name: name + "_pool")(x)
        let branchPool = unit(pooled, module.poolProjection, kernel: 1, name: name + "_pool_proj")
        return Concatenate(name: name + "_output")([branch1, branch3, branch5, branchPool])
    }

    /// Inception 3a to 5b with the max pools after 3b (`pool3_3x3_s2`) and 4e (`pool4_3x3_s2`).
    static func inceptionStack(_ input: SymbolicTensor, unit: ConvUnit) -> SymbolicTensor {
        var x = input
        for module in inceptionModules {
            x = inceptionModule(x, module, unit: unit)
            if module.name == "3b" || module.name == "4e" {
                x = MaxPooling2D(poolSize: 3, strides: 2, padding: .same, name: "pool\(module.name.prefix(1))_3x3_s2")(x)
            }
        }
        return x
    }

    /// GoogLeNet for 224x224 images, table 1: 7x7/2 convolution of 64, 3x3/2 max pool, 1x1
    /// convolution of 64, 3x3 convolution of 192, 3x3/2 max pool (maps 112, 56, 56, 28), inception
    /// 3a–3b (28x28), max pool, 4a–4e (14x14), max pool, 5a–5b (7x7), average pool, dropout 0.4,
    /// softmax classifier. ReLU everywhere, no batch norm (this is v1), Glorot initialisation.
    ///
    /// Differences from the paper: no local response normalization (ConvNet has none); the 7x7
    /// average pool is a global one (the same at 224x224; with it, and same padding in every
    /// window, any input size works); the two auxiliary classifiers of section 5
    /// are left out, since a ConvNet model has one output (the paper discards them at inference).
    /// Max pools use TensorFlow's same padding, which gives table 1's sizes (Caffe rounds up).
    ///
    /// Parameters at 224x224x3 with 1000 classes: 6,998,552, that is 6,990,272 weights and 8,280
    /// biases, computed from table 1's filter counts (inception 3a alone: 163,328 weights). Table
    /// 1's "params" column counts weights only, rounded to thousands, and sums to about 6.8M.
    /// torchvision's `googlenet` (6,624,904 without auxiliary classifiers) is another layout: batch
    /// norm, and a 3x3 convolution in the "5x5" branch.
    static func googLeNet(inputShape: LayerShape, classes: Int, seed: UInt64) throws -> Model {
        let unit = ConvUnit.plain
        let input = SymbolicTensor.input(shape: inputShape)
        var x = unit(input, 64, kernel: 7, strides: 2, name: "conv1_7x7_s2")
        x = MaxPooling2D(poolSize: 3, strides: 2, padding: .same, name: "pool1_3x3_s2")(x)
        x = unit(x, 64, kernel: 1, name: "conv2_3x3_reduce")
        x = unit(x, 192, kernel: 3, name: "conv2_3x3")
        x = MaxPooling2D(poolSize: 3, strides: 2, padding: .same, name: "pool2_3x3_s2")(x)
        let output = classifierHead(inceptionStack(x, unit: unit), classes: classes, dropout: 0.4)
        return try Model(kerasOrderedName: "googlenet", input: input, output: output, seed: seed)
    }

    /// A GoogLeNet for 32x32 images: the inception modules of table 1 with batch norm after every
    /// convolution (no bias, He initialisation), on a 3x3 stride-1 convolution of 192 (as
    /// kuangliu/pytorch-cifar's `GoogLeNet`) and a 3x3/2 max pool, so that 3a–3b run on 16x16,
    /// 4a–4e on 8x8 and 5a–5b on 4x4 maps (pytorch-cifar's runs on 32/16/8, four times the
    /// work); then global average pooling, dropout 0.4 and the classifier. Unlike pytorch-cifar's,
    /// the "5x5" branch is a 5x5 convolution, as in the paper.
    ///
    /// 5,871,914 trainable parameters with 10 classes (5,847,360 convolution weights, 14,304 batch-norm
    /// scales and offsets, 10,250 dense) and 14,304 non-trainable.
    static func googLeNetCIFAR(inputShape: LayerShape, classes: Int, seed: UInt64) throws -> Model {
        let unit = ConvUnit(batchNorm: .pytorch, useBias: false, initializer: .heNormal, convSuffix: "")
        let input = SymbolicTensor.input(shape: inputShape)
        var x = unit(input, 192, kernel: 3, name: "conv1_3x3")
        x = MaxPooling2D(poolSize: 3, strides: 2, padding: .same, name: "pool1_3x3_s2")(x)
        let output = classifierHead(inceptionStack(x, unit: unit), classes: classes, dropout: 0.4)
        return try Model(kerasOrderedName: "googlenet-cifar", input: input, output: output, seed: seed)
    }
}
