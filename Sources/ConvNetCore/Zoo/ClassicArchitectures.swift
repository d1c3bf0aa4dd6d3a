/// The classic ImageNet architectures of the lecture notes (AlexNet, VGG16, ResNet, GoogLeNet) and
/// their small-image variants for 32x32 CIFAR-10, as `ModelZoo` entries.
///
/// Each family lives in its own file (`AlexNet.swift`, `VGG.swift`, `ResNet.swift`,
/// `GoogLeNet.swift`); this file holds the catalog, the dispatch by name and what the families
/// share: the convolution unit, the classifier head and Keras's layer order.
enum ClassicArchitectures {
    /// Appended to `ModelZoo.catalog`. Parameter totals are at the default input and class count.
    static let catalog: [(name: String, description: String)] = [
        ("alexnet", "Krizhevsky et al. 2012 (the lecture notes' table): 227x227x3, conv 96@11x11/4, max pool 3/2, conv 256@5x5, max pool, "
            + "convs 384/384/256@3x3, max pool, 4096, dropout, 4096, dropout, 1000 softmax; 62,378,344 params"),
        ("vgg16", "Simonyan & Zisserman 2014 config D as Keras applications VGG16: 13 3x3 convs in 5 blocks, 2x2 max pools, "
            + "4096, 4096, 1000 (224x224x3); 138,357,544 params"),
        ("resnet18", "He et al. 2015 ResNet-18 as torchvision: 7x7/2 stem, max pool, basic blocks [2,2,2,2], batch norm, "
            + "global average pool, 1000 (224x224x3); 11,689,512 trainable params"),
        ("resnet34", "He et al. 2015 ResNet-34 as torchvision: basic blocks [3,4,6,3] (224x224x3); 21,797,672 trainable params"),
        ("resnet50", "He et al. 2015 ResNet-50 as Keras applications ResNet50: bottleneck blocks [3,4,6,3] (224x224x3); "
            + "25,636,712 params"),
        ("googlenet", "Szegedy et al. 2014 Inception v1 (table 1), without auxiliary classifiers or LRN: inception 3a-5b, "
            + "global average pool, dropout 0.4, 1000 (224x224x3); 6,998,552 params"),
        ("resnet20", "He et al. 2015 section 4.2 CIFAR ResNet-20: 3x3 conv 16, 3x3 basic blocks of 16/32/64 filters, "
            + "projection shortcuts, global average pool, 10 (32x32x3); 272,474 trainable params"),
        ("resnet32", "the same with 5 blocks per stage; 466,906 trainable params"),
        ("resnet44", "the same with 7 blocks per stage; 661,338 trainable params"),
        ("resnet56", "the same with 9 blocks per stage; 855,770 trainable params"),
        ("resnet110", "the same with 18 blocks per stage; 1,730,714 trainable params"),
        ("resnet18-cifar", "ResNet-18 for 32x32 (3x3 stem, no max pool, as kuangliu/pytorch-cifar); 11,173,962 trainable params"),
        ("vgg11-cifar", "VGG-11 (config A) convs with batch norm at 32x32, global average pool, 10; 9,231,114 trainable params"),
        ("vgg16-cifar", "VGG-16 (config D) convs with batch norm at 32x32, global average pool, 10; 14,728,266 trainable params"),
        ("googlenet-cifar", "GoogLeNet's inception 3a-5b with batch norm on a 3x3 stem for 32x32 (16/8/4 maps), 10; "
            + "5,871,914 trainable params"),
        ("airbench94", "Jordan's airbench94 (arXiv 2404.00498): 2x2 whitening conv 24 GELU, blocks [conv, max pool, BN, GELU, conv, BN, "
            + "GELU] of 64/256/256, max pool 3, dense 10 x 1/9 (32x32x3); whiten with convnet speedrun, not train"),
        ("airbench95", "airbench94 with blocks of 128/384/384"),
    ]

    /// Builds the named architecture, or returns nil when the name is not one of `catalog`'s.
    static func model(named name: String, inputShape: LayerShape?, classes: Int?, seed: UInt64) throws -> Model? {
        let imageNet: LayerShape = [224, 224, 3], cifar: LayerShape = [32, 32, 3]
        switch name {
        case "alexnet":
            return try alexNet(inputShape: inputShape ?? [227, 227, 3], classes: classes ?? 1000, seed: seed)
        case "vgg16":
            return try vgg16(inputShape: inputShape ?? imageNet, classes: classes ?? 1000, seed: seed)
        case "resnet18", "resnet34", "resnet50":
            return try resNet(depth: Int(name.dropFirst("resnet".count))!, inputShape: inputShape ?? imageNet,
                              classes: classes ?? 1000, seed: seed)
        case "googlenet":
            return try googLeNet(inputShape: inputShape ?? imageNet, classes: classes ?? 1000, seed: seed)
        case "resnet20", "resnet32", "resnet44", "resnet56", "resnet110":
            return try resNetCIFAR(depth: Int(name.dropFirst("resnet".count))!, inputShape: inputShape ?? cifar,
                                   classes: classes ?? 10, seed: seed)
        case "resnet18-cifar":
            return try resNet18CIFAR(inputShape: inputShape ?? cifar, classes: classes ?? 10, seed: seed)
        case "vgg11-cifar", "vgg16-cifar":
            return try vggCIFAR(depth: name == "vgg11-cifar" ? 11 : 16, inputShape: inputShape ?? cifar,
                                classes: classes ?? 10, seed: seed)
        case "googlenet-cifar":
            return try googLeNetCIFAR(inputShape: inputShape ?? cifar, classes: classes ?? 10, seed: seed)
        case "airbench94", "airbench95":
            let recipe = name == "airbench94" ? AirbenchRecipe.airbench94 : .airbench95
            return try recipe.model(inputShape: inputShape ?? cifar, classes: classes ?? 10, seed: seed)
        default:
            return nil
        }
    }

    /// Global average pooling (`avg_pool`), optional dropout, then the softmax classifier
    /// (`predictions`): the head of every architecture here after 2014.
    static func classifierHead(_ x: SymbolicTensor, classes: Int, dropout: Float? = nil) -> SymbolicTensor {
        var x = GlobalAveragePooling2D(name: "avg_pool")(x)
        if let dropout { x = Dropout(dropout, name: "dropout")(x) }
        return Dense(classes, activation: .softmax, name: "predictions")(x)
    }
}

/// Batch normalization settings: Keras's layer takes `momentum` as the weight of the old moving
/// average (PyTorch's `momentum = 0.1` is Keras's 0.9).
struct BatchNormSettings: Sendable {
    var epsilon: Float
    var momentum: Float

    /// Keras applications' ResNet: `epsilon=1.001e-5`, Keras's default momentum.
    static let kerasResNet = BatchNormSettings(epsilon: 1.001e-5, momentum: 0.99)
    /// PyTorch's `BatchNorm2d` defaults (torchvision, pytorch-cifar): `eps=1e-5`, `momentum=0.1`.
    static let pytorch = BatchNormSettings(epsilon: 1e-5, momentum: 0.9)
}

/// One convolution as a family of networks uses it: bias and ReLU inside the convolution
/// (AlexNet, VGG, GoogLeNet), or followed by batch normalization and a ReLU layer (ResNet and the
/// CIFAR variants). With batch norm the layers are named `<name><convSuffix>`, `<name>_bn`,
/// `<name>_relu`, as Keras applications name ResNet's (`conv2_block1_1_conv`, `..._bn`, `..._relu`).
struct ConvUnit: Sendable {
    var batchNorm: BatchNormSettings?
    var useBias: Bool
    var initializer: Initializer
    var convSuffix: String

    /// Keras's defaults: bias, Glorot uniform, ReLU in the convolution.
    static let plain = ConvUnit(batchNorm: nil, useBias: true, initializer: .glorotUniform, convSuffix: "")

    func callAsFunction(_ x: SymbolicTensor, _ filters: Int, kernel: Int, strides: Int = 1, padding: Padding = .same,
                        relu: Bool = true, name: String) -> SymbolicTensor {
        guard let batchNorm else {
            return Conv2D(filters, kernelSize: kernel, strides: strides, padding: padding, activation: relu ? .relu : .linear,
                          useBias: useBias, kernelInitializer: initializer, name: name + convSuffix)(x)
        }
        let conv = Conv2D(filters, kernelSize: kernel, strides: strides, padding: padding, useBias: useBias,
                          kernelInitializer: initializer, name: name + convSuffix)(x)
        let normalized = BatchNormalization(momentum: batchNorm.momentum, epsilon: batchNorm.epsilon, name: name + "_bn")(conv)
        return relu ? Activation(.relu, name: name + "_relu")(normalized) : normalized
    }
}

extension Model {
    /// A functional model with its layers in the order Keras gives the same graph (Keras's
    /// `map_graph`: by decreasing depth, the longest path to the output, ties broken by the
    /// order in which a depth-first walk from the output first reaches them).
    ///
    /// Keras files list weights in that order and `loadWeights(from:)` matches layers by position,
    /// so Keras applications' weights load into these models. In a ResNet block the order is
    /// `1_conv, 1_bn, 1_relu, 2_conv, 2_bn, 2_relu, 0_conv, 3_conv, 0_bn, 3_bn, add, out`.
    init(kerasOrderedName name: String, input: SymbolicTensor, output: SymbolicTensor, seed: UInt64) throws {
        guard let shape = input.inputShape else {
            throw ConvNetError.argument("Model '\(name)': the input must come from SymbolicTensor.input(shape:)")
        }
        var discovery: [ObjectIdentifier: Int] = [:]  // first reached, depth-first from the output
        var postOrder: [SymbolicTensor] = []          // every node after its sources
        func visit(_ node: SymbolicTensor) throws {
            guard node.layer != nil else {
                guard node === input else {
                    throw ConvNetError.argument("Model '\(name)': the output depends on an input that is not the model's input")
                }
                return
            }
            let id = ObjectIdentifier(node)
            guard discovery[id] == nil else { return }
            discovery[id] = discovery.count
            for source in node.sources { try visit(source) }
            postOrder.append(node)
        }
        try visit(output)
        var depth: [ObjectIdentifier: Int] = [:]
        for node in postOrder.reversed() {
            let own = depth[ObjectIdentifier(node), default: 0]
            for source in node.sources where source.layer != nil {
                depth[ObjectIdentifier(source)] = max(depth[ObjectIdentifier(source), default: 0], own + 1)
            }
        }
        let order = postOrder.sorted { a, b in
            let (idA, idB) = (ObjectIdentifier(a), ObjectIdentifier(b))
            return (depth[idA, default: 0], -discovery[idA]!) > (depth[idB, default: 0], -discovery[idB]!)
        }
        let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { (ObjectIdentifier($1), $0) })
        let inbound = order.map { node in
            node.sources.map { $0 === input ? Model.inputNode : position[ObjectIdentifier($0)]! }
        }
        try self.init(name: name, inputShape: shape, layers: order.compactMap(\.layer), inbound: inbound,
                      isSequential: false, seed: seed)
    }
}
