/// Models by name, with the lecture notes' exact layer lists. Every entry takes the number of classes and,
/// where the arithmetic allows, another input size.
public enum ModelZoo {
    /// The names `model(named:)` knows, with a one-line description each.
    public static let catalog: [(name: String, description: String)] = [
        ("lenet5", "Keras LeNet-5 of the lecture notes: conv 6@5x5 same relu, max pool, conv 16@5x5 relu, max pool, 120, 84, 10 (28x28x1)"),
        ("lenet5-classic", "LeNet-5 as LeCun et al. 1998 (lecture notes): 32x32x1, conv 6@5x5 tanh, avg pool, conv 16@5x5 tanh, avg pool, 120, 84, 10"),
        ("conv4x7", "the four-7x7-convolution Fashion-MNIST model: four 7x7 valid convs 32/64/128/256 relu, dense 10 (28x28x1)"),
        ("fmnist-maxpool", "Fashion-MNIST model with max pooling: conv 32, conv 64, max pool, conv 128, conv 256, max pool, dense 10 (3x3 relu)"),
        ("fmnist-strides", "Fashion-MNIST model with strides: fmnist-maxpool with stride-2 convs in place of pooling"),
        ("fmnist-fcn", "fully convolutional Fashion-MNIST model: 3x3 same convs 32/64s2/128/256s2, 7x7 conv 512, 1x1 conv 10 softmax; any input size"),
        ("signs", "SIGNS hand-sign model of the lecture notes: 64x64x3, conv 8@4x4/2 pad 1, max pool 5/1, conv 16@4x4/2, avg pool 5/1, dense 108, 6 sigmoid"),
        ("cifar", "CIFAR-10 model of the lecture notes: 3x3 same convs 32/64s2/128/256s2/512/1024s2 relu, dense 512, 10 (32x32x3)"),
    ] + HandMadeFeatures.catalog + ClassicArchitectures.catalog

    /// Builds a zoo model. `inputShape` defaults to the model's own; `classes` to its own.
    /// `regularizer` puts a kernel penalty on every `Conv2D` and `Dense` layer. `dropout` becomes
    /// the rate of every `Dropout` the model has (AlexNet's after fc6 and fc7, GoogLeNet's after
    /// the average pool) and of one inserted after every `Flatten`, `GlobalAveragePooling2D` and
    /// hidden `Dense` layer not followed by one already, in chain and graph models alike.
    public static func model(named name: String, inputShape: LayerShape? = nil, classes: Int? = nil, seed: UInt64 = 0,
                             dropout: Float? = nil, regularizer: Regularizer? = nil) throws -> Model {
        let base = try layers(named: name, inputShape: inputShape, classes: classes, seed: seed)
        guard dropout != nil || regularizer != nil else { return base }
        let penalized = base.layers.map { layer -> any Layer in
            guard let regularizer, var penalizable = layer as? any KernelLayer else { return layer }
            penalizable.kernelRegularizer = regularizer
            return penalizable
        }
        guard let dropout, dropout > 0 else {
            // A penalty changes no wiring.
            return try Model(name: base.name, inputShape: base.inputShape, layers: penalized, inbound: base.inbound,
                             isSequential: base.isSequential, seed: seed)
        }
        let (layers, inbound) = withDropout(rate: dropout, layers: penalized, inbound: base.inbound)
        return try Model(name: base.name, inputShape: base.inputShape, layers: layers, inbound: inbound,
                         isSequential: base.isSequential, seed: seed)
    }

    /// `layers` (wired by `inbound`, in execution order, the output last) with every `Dropout` at
    /// `rate`, and a new one after every `Flatten`, `GlobalAveragePooling2D` and hidden `Dense`
    /// layer whose consumers are not all `Dropout`s already; the new one takes over the layer's
    /// consumers. A chain stays a chain.
    static func withDropout(rate: Float, layers: [any Layer], inbound: [[Int]]) -> (layers: [any Layer], inbound: [[Int]]) {
        var consumers = [[Int]](repeating: [], count: layers.count)
        for (index, sources) in inbound.enumerated() {
            for source in sources where source != Model.inputNode { consumers[source].append(index) }
        }
        var result: [any Layer] = [], wiring: [[Int]] = []
        var position = [Int](repeating: Model.inputNode, count: layers.count)  // what reads layer i's output now
        for (index, layer) in layers.enumerated() {
            if var existing = layer as? Dropout {
                existing.rate = rate
                result.append(existing)
            } else {
                result.append(layer)
            }
            wiring.append(inbound[index].map { $0 == Model.inputNode ? $0 : position[$0] })
            position[index] = result.count - 1
            let isHidden = index < layers.count - 1
            let alreadyFollowed = !consumers[index].isEmpty && consumers[index].allSatisfy { layers[$0] is Dropout }
            if isHidden, !alreadyFollowed, layer is Flatten || layer is GlobalAveragePooling2D || layer is Dense {
                result.append(Dropout(rate, name: "dropout_after_\(layer.name)"))
                wiring.append([result.count - 2])
                position[index] = result.count - 1
            }
        }
        return (result, wiring)
    }

    private static func layers(named name: String, inputShape: LayerShape?, classes: Int?, seed: UInt64) throws -> Model {
        switch name {
        case "lenet5":
            return try Model(name: name, inputShape: inputShape ?? [28, 28, 1], seed: seed) {
                Conv2D(6, kernelSize: 5, padding: .same, activation: .relu)
                MaxPooling2D(poolSize: 2)
                Conv2D(16, kernelSize: 5, activation: .relu)
                MaxPooling2D(poolSize: 2)
                Flatten()
                Dense(120, activation: .relu)
                Dense(84, activation: .relu)
                Dense(classes ?? 10, activation: .softmax)
            }
        case "lenet5-classic":
            return try Model(name: name, inputShape: inputShape ?? [32, 32, 1], seed: seed) {
                Conv2D(6, kernelSize: 5, activation: .tanh)
                AveragePooling2D(poolSize: 2)
                Conv2D(16, kernelSize: 5, activation: .tanh)
                AveragePooling2D(poolSize: 2)
                Flatten()
                Dense(120, activation: .tanh)
                Dense(84, activation: .tanh)
                Dense(classes ?? 10, activation: .softmax)
            }
        case "conv4x7":
            return try Model(name: name, inputShape: inputShape ?? [28, 28, 1], seed: seed) {
                for filters in [32, 64, 128, 256] { Conv2D(filters, kernelSize: 7, activation: .relu) }
                Flatten()
                Dense(classes ?? 10, activation: .softmax)
            }
        case "fmnist-maxpool", "fmnist-strides":
            let strided = name == "fmnist-strides"
            return try Model(name: name, inputShape: inputShape ?? [28, 28, 1], seed: seed) {
                Conv2D(32, kernelSize: 3, activation: .relu)
                Conv2D(64, kernelSize: 3, strides: strided ? 2 : 1, activation: .relu)
                if !strided { MaxPooling2D(poolSize: 2) }
                Conv2D(128, kernelSize: 3, activation: .relu)
                Conv2D(256, kernelSize: 3, strides: strided ? 2 : 1, activation: .relu)
                if !strided { MaxPooling2D(poolSize: 2) }
                Flatten()
                Dense(classes ?? 10, activation: .softmax)
            }
        case "fmnist-fcn":
            return try Model(name: name, inputShape: inputShape ?? [nil, nil, 1], seed: seed) {
                for (filters, stride) in [(32, 1), (64, 2), (128, 1), (256, 2)] {
                    Conv2D(filters, kernelSize: 3, strides: stride, padding: .same, activation: .relu)
                }
                Conv2D(512, kernelSize: 7, activation: .relu)
                Conv2D(classes ?? 10, kernelSize: 1, activation: .softmax)
            }
        case "signs":
            return try Model(name: name, inputShape: inputShape ?? [64, 64, 3], seed: seed) {
                Conv2D(8, kernelSize: 4, strides: 2, padding: .uniform(1), activation: .relu)
                MaxPooling2D(poolSize: 5, strides: 1)
                Conv2D(16, kernelSize: 4, strides: 2, activation: .relu)
                AveragePooling2D(poolSize: 5, strides: 1)
                Flatten()
                Dense(108, activation: .relu)
                Dense(classes ?? 6, activation: .sigmoid)
            }
        case "cifar":
            return try Model(name: name, inputShape: inputShape ?? [32, 32, 3], seed: seed) {
                for (filters, stride) in [(32, 1), (64, 2), (128, 1), (256, 2), (512, 1), (1024, 2)] {
                    Conv2D(filters, kernelSize: 3, strides: stride, padding: .same, activation: .relu)
                }
                Flatten()
                Dense(512, activation: .relu)
                Dense(classes ?? 10, activation: .softmax)
            }
        default:
            if let model = try ClassicArchitectures.model(named: name, inputShape: inputShape, classes: classes, seed: seed)
                ?? HandMadeFeatures.model(named: name, inputShape: inputShape, classes: classes, seed: seed) {
                return model
            }
            throw ConvNetError.argument("unknown model '\(name)'; known models: \(catalog.map(\.name).joined(separator: ", "))")
        }
    }
}
