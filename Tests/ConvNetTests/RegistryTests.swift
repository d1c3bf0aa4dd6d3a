import ConvNet
import Foundation
import Testing

/// A user-defined layer: `x·factor + offset`, with a per-channel trainable offset.
struct ShiftAndScale: RegisteredLayer {
    var name: String
    let factor: Float
    let offsetInitializer: Initializer
    var offset: Tensor?

    init(factor: Float, offsetInitializer: Initializer = .zeros, name: String = "") {
        self.factor = factor
        self.offsetInitializer = offsetInitializer
        self.name = name
    }

    static var kerasClassName: String { "TestShiftAndScale" }
    static var kerasClassAliases: [String] { ["TestShiftScale"] }

    init(kerasConfig config: KerasConfig) throws {
        self.init(factor: try config.float("factor"), offsetInitializer: try Initializer(kerasConfig: try config.nested("offset_initializer") ?? Initializer.zeros.kerasConfig),
                  name: config.name)
    }

    func kerasConfig() throws -> KerasConfig {
        KerasConfig(className: Self.kerasClassName, values: ["factor": KerasValue(factor),
                                                             "offset_initializer": offsetInitializer.kerasConfig.serialized(module: "keras.initializers")])
    }

    var weightNames: [String] { ["offset"] }
    var trainableWeights: [Tensor] {
        get { offset.map { [$0] } ?? [] }
        set { offset = newValue.first }
    }

    func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape { inputShapes[0] }

    mutating func build(inputShapes: [LayerShape], generator: inout RandomGenerator) throws {
        offset = offsetInitializer.make(shape: [(inputShapes[0].last ?? 1) ?? 1], generator: &generator)
    }

    mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        guard let offset else { throw ConvNetError.argument("ShiftAndScale '\(name)' is used before it was built") }
        return try inputs[0] * factor + offset
    }
}

/// A user-defined optimizer: SGD with a scaled step and a running sum of gradients as its one slot.
struct ScaledSGD: RegisteredOptimizer {
    var learningRate: Float
    let scale: Float
    var step = 0
    var slots: [String: [Tensor]] = [:]
    var slotsPerParameter: Int { 1 }
    var parameterGroups: [ParameterGroup] = []
    var kerasName: String { "test_scaled_sgd" }

    init(learningRate: Float = 0.02, scale: Float = 1) {
        self.learningRate = learningRate
        self.scale = scale
    }

    var hyperparameters: [String: Float] { ["learning_rate": learningRate, "scale": scale] }

    init(kerasName: String, hyperparameters: [String: Float]) throws {
        self.init(learningRate: hyperparameters["learning_rate"] ?? 0.02, scale: hyperparameters["scale"] ?? 1)
    }

    mutating func update(_ parameters: inout [Parameter], gradients: [Tensor]) throws {
        step += 1
        for index in parameters.indices {
            let path = parameters[index].path, shape = parameters[index].value.shape
            let g = gradients[index].scalars
            let sum = slots[path]?.first ?? Tensor(shape: shape, repeating: 0)
            slots[path] = [try Tensor(shape: shape, scalars: zip(sum.scalars, g).map { $0 + $1 })]
            parameters[index].value = try Tensor(shape: shape,
                                                 scalars: zip(parameters[index].value.scalars, g).map { $0 - learningRate * scale * $1 })
        }
    }
}

/// A layer type that conforms but is never registered.
struct UnregisteredLayer: RegisteredLayer {
    var name = ""
    static var kerasClassName: String { "TestUnregistered" }
    init() {}
    init(kerasConfig config: KerasConfig) throws { name = config.name }
    func kerasConfig() throws -> KerasConfig { KerasConfig(className: Self.kerasClassName) }
    func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape { inputShapes[0] }
    mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor { inputs[0] }
}

@Suite struct RegistryTests {
    static func register() {
        LayerRegistry.register(ShiftAndScale.self)
        OptimizerRegistry.register(ScaledSGD())
    }

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("convnet-registry-\(UUID())-\(name)").path
    }

    /// One of every built-in layer type, each with non-default values for its fields.
    static let everyBuiltInLayer: [any Layer] = [
        Conv2D(5, kernelSize: [3, 2], strides: [2, 1], padding: .same, dilation: [1, 2], activation: .tanh, useBias: false,
               kernelInitializer: .randomNormal(standardDeviation: 0.2), biasInitializer: .constant(0.5),
               kernelRegularizer: Regularizer(l1: 0.01, l2: 0.02), name: "conv"),
        Conv2D(2, kernelSize: 1, activation: .leakyRelu(alpha: 0.2), kernelInitializer: .truncatedNormal(standardDeviation: 0.3),
               biasInitializer: .randomUniform(low: -0.2, high: 0.4), name: "conv_b"),
        Dense(7, activation: .sigmoid, useBias: false, kernelInitializer: .heUniform, biasInitializer: .ones,
              kernelRegularizer: .l2(0.1), name: "dense"),
        Dense(3, activation: .elu(alpha: 1), kernelInitializer: .lecunNormal, biasInitializer: .glorotNormal, name: "dense_b"),
        Dense(3, activation: .softmax, kernelInitializer: .heNormal, biasInitializer: .lecunUniform, kernelRegularizer: .l1(0.3), name: "dense_c"),
        MaxPooling2D(poolSize: [3, 2], strides: [1, 2], padding: .same, name: "max"),
        AveragePooling2D(poolSize: [2, 3], strides: [2, 1], padding: .valid, name: "average"),
        GlobalAveragePooling2D(name: "global_average"),
        GlobalMaxPooling2D(name: "global_max"),
        Flatten(name: "flat"),
        Dropout(0.25, name: "drop"),
        BatchNormalization(momentum: 0.9, epsilon: 0.01, center: false, scale: true, name: "norm"),
        BatchNormalization(momentum: 0.5, epsilon: 0.1, center: true, scale: false, name: "norm_b"),
        Activation(.elu(alpha: 0.5), name: "elu"),
        Activation(.leakyRelu(alpha: 0.1), name: "leaky"),
        Activation(.relu, name: "relu"),
        ZeroPadding2D(top: 1, bottom: 2, left: 0, right: 3, name: "pad"),
        Add(name: "add"),
        Concatenate(name: "join"),
    ]

    /// Every built-in layer type survives Keras JSON text: same type, same fields (the
    /// description lists every stored property), same config.
    @Test func everyBuiltInLayerRoundTripsThroughKerasJSON() throws {
        var covered: Set<String> = []
        for layer in Self.everyBuiltInLayer {
            let config = try LayerRegistry.kerasConfig(of: layer)
            let text = try config.serialized(module: "keras.layers").jsonText()
            let reread = try KerasConfig(serialized: KerasValue.parse(json: text, what: "test"), what: "test")
            let decoded = try LayerRegistry.layer(from: reread)
            #expect(type(of: decoded) == type(of: layer))
            #expect(String(describing: decoded) == String(describing: layer), "\(layer.name)")
            #expect(try LayerRegistry.kerasConfig(of: decoded) == config)
            covered.insert(layer.kerasClassName)
        }
        let builtIn: Set<String> = ["Conv2D", "Dense", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
                                    "GlobalMaxPooling2D", "Flatten", "Dropout", "BatchNormalization", "Activation",
                                    "ZeroPadding2D", "Add", "Concatenate"]
        #expect(covered == builtIn)
        #expect(builtIn.isSubset(of: Set(LayerRegistry.registeredNames)))
    }

    /// A Conv2D's every field survives a whole model file, and the Keras config says what Keras expects.
    @Test func convolutionKeepsEveryFieldThroughAModelFile() throws {
        let conv = Conv2D(4, kernelSize: [3, 2], strides: [2, 1], padding: .same, dilation: [1, 1], activation: .relu, useBias: false,
                          kernelInitializer: .randomUniform(low: -0.1, high: 0.3), biasInitializer: .constant(0.25),
                          kernelRegularizer: Regularizer(l1: 0.001, l2: 0.002), name: "c")
        let dilated = Conv2D(3, kernelSize: 3, dilation: 2, activation: .sigmoid, name: "d")
        let model = try Model(inputShape: [12, 12, 2], seed: 4) { conv; dilated; Flatten(); Dense(2) }
        let path = Self.temporaryPath("conv.h5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.save(to: path)
        let loaded = try Model.load(from: path)
        let c = try #require(loaded.layers[0] as? Conv2D), d = try #require(loaded.layers[1] as? Conv2D)
        #expect(c.strides == [2, 1] && c.padding == .same && c.kernelSize == [3, 2] && !c.useBias && c.activation == .relu)
        #expect(c.kernelInitializer == .randomUniform(low: -0.1, high: 0.3) && c.biasInitializer == .constant(0.25))
        #expect(c.kernelRegularizer == Regularizer(l1: 0.001, l2: 0.002))
        #expect(d.dilation == [2, 2] && d.activation == .sigmoid)
        #expect(loaded.trainableWeights == model.trainableWeights)
        let config = try LayerRegistry.kerasConfig(of: c)
        #expect(config["dilation_rate"] == [1, 1] && config["strides"] == [2, 1] && config["use_bias"] == false)
    }

    /// Keras's other spellings read as the same layers.
    @Test func kerasAliasesRead() throws {
        #expect(try LayerRegistry.layer(from: KerasConfig(className: "Convolution2D", values: ["filters": 2, "kernel_size": 3])) is Conv2D)
        #expect(try LayerRegistry.layer(from: KerasConfig(className: "MaxPool2D")) is MaxPooling2D)
        #expect(try LayerRegistry.layer(from: KerasConfig(className: "AvgPool2D")) is AveragePooling2D)
        #expect(try LayerRegistry.layer(from: KerasConfig(className: "GlobalAvgPool2D")) is GlobalAveragePooling2D)
        let dense = try #require(try LayerRegistry.layer(from: KerasConfig(className: "Dense", values: [
            "units": 2, "kernel_initializer": "he_normal"])) as? Dense)
        #expect(dense.kernelInitializer == .heNormal)
    }

    /// Names the registries do not know are errors naming them and listing the known ones.
    @Test func unknownNamesAreErrorsListingTheKnownOnes() throws {
        #expect(throws: ConvNetError.argument("Keras Conv3D 'c': unknown Keras layer class 'Conv3D'; known: \(LayerRegistry.registeredNames.joined(separator: ", "))")) {
            try LayerRegistry.layer(from: KerasConfig(className: "Conv3D", values: ["name": "c"]))
        }
        #expect(throws: ConvNetError.argument("unknown initializer 'Orthogonal'; known: \(InitializerRegistry.registeredNames.joined(separator: ", "))")) {
            try LayerRegistry.layer(from: KerasConfig(className: "Dense", values: ["units": 2, "kernel_initializer": ["class_name": "Orthogonal", "config": [:]]]))
        }
        #expect(throws: ConvNetError.argument("unknown optimizer 'adamax'; known: \(OptimizerRegistry.registeredNames.joined(separator: ", "))")) {
            try OptimizerRegistry.optimizer(named: "adamax")
        }
        #expect(throws: ConvNetError.argument("unknown loss 'hinge'; known: \(LossRegistry.registeredNames.joined(separator: ", "))")) {
            try Loss(kerasName: "hinge")
        }
        #expect(throws: ConvNetError.self) { try Metric(name: "precision") }
        #expect(try Metric(name: "top_5_accuracy") == .topKAccuracy(5))
        #expect(throws: ConvNetError.self) { try OptimizerRegistry.optimizer(named: "adam", hyperparameters: ["beta": 0.5]) }
        #expect(throws: ConvNetError.self) { try LearningRateSchedule(parsing: "warmup:3", epochs: 5) }
    }

    /// Every built-in optimizer's settings come back from its name and hyperparameters.
    @Test func builtInOptimizersRoundTripTheirSettings() throws {
        let optimizers: [any RegisteredOptimizer] = [
            SGD(learningRate: 0.3), Momentum(learningRate: 0.2, beta: 0.7, form: .classic), Momentum(beta: 0.6, form: .nesterov),
            Momentum(beta: 0.5), Adagrad(learningRate: 0.4, epsilon: 1e-4), RMSprop(learningRate: 0.1, rho: 0.8, epsilon: 1e-3),
            Adam(learningRate: 0.05, beta1: 0.8, beta2: 0.9, epsilon: 1e-6), Adam.adamW(weightDecay: 0.01),
        ]
        for optimizer in optimizers {
            let saved = try OptimizerRegistry.configuration(of: optimizer)
            let restored = try OptimizerRegistry.optimizer(named: saved.name, hyperparameters: saved.hyperparameters)
            #expect(type(of: restored) == type(of: optimizer))
            #expect(restored.kerasName == optimizer.kerasName && restored.hyperparameters == optimizer.hyperparameters)
        }
    }

    /// A user's layer and optimizer, registered, round-trip through `Model.save`/`load`, Keras JSON
    /// and `TrainingCheckpoint.save`/`load` with their settings and state.
    @Test func userLayerAndOptimizerRoundTripThroughFilesAndCheckpoints() throws {
        Self.register()
        var model = try Model(inputShape: [8, 8, 1], seed: 2) {
            Conv2D(3, kernelSize: 3, padding: .same, activation: .relu)
            ShiftAndScale(factor: 0.75, offsetInitializer: .constant(0.1), name: "shift")
            Flatten()
            Dense(4, activation: .softmax)
        }
        model.compile(optimizer: ScaledSGD(learningRate: 0.03, scale: 0.5), loss: .categoricalCrossentropy(), metrics: [.accuracy, .topKAccuracy(2)])
        let (x, y) = try TrainingTests.quadrants(count: 32, seed: 4)
        try model.fit(x: x, y: y, epochs: 1, batchSize: 8, verbosity: .silent)

        // Keras JSON.
        let json = try KerasModelJSON.json(for: model)
        #expect(json.contains("\"class_name\":\"TestShiftAndScale\""))
        let rebuilt = try KerasModelJSON.model(fromJSON: json)
        let layer = try #require(rebuilt.layers[1] as? ShiftAndScale)
        #expect(layer.factor == 0.75 && layer.offsetInitializer == .constant(0.1) && layer.name == "shift")

        // Model file.
        let modelPath = Self.temporaryPath("model.h5")
        defer { try? FileManager.default.removeItem(atPath: modelPath) }
        try model.save(to: modelPath)
        let loaded = try Model.load(from: modelPath)
        #expect(try loaded.predict(x) == model.predict(x))
        #expect((loaded.layers[1] as? ShiftAndScale)?.factor == 0.75)

        // Checkpoint.
        let checkpointPath = Self.temporaryPath("checkpoint.h5")
        defer { try? FileManager.default.removeItem(atPath: checkpointPath) }
        try TrainingCheckpoint(model: model, epoch: 1, shuffler: RandomGenerator(seed: 1), dropoutGenerator: RandomGenerator(seed: 2))
            .save(to: checkpointPath)
        let checkpoint = try TrainingCheckpoint.load(from: checkpointPath)
        let optimizer = try #require(checkpoint.model.training?.optimizer as? ScaledSGD)
        let original = try #require(model.training?.optimizer as? ScaledSGD)
        #expect(optimizer.learningRate == 0.03 && optimizer.scale == 0.5)
        #expect(optimizer.step == original.step && optimizer.step == 4)
        #expect(optimizer.slots == original.slots)
        #expect(checkpoint.model.training?.loss == .categoricalCrossentropy())
        #expect(checkpoint.model.training?.metrics == [.accuracy, .topKAccuracy(2)])
        #expect(try checkpoint.model.predict(x) == model.predict(x))
    }

    /// A layer or optimizer that could be written but not read back is refused when saving.
    @Test func unregisteredKindsAreRefusedWhenSaving() throws {
        let model = try Model(inputShape: [4], seed: 1) { UnregisteredLayer(); Dense(2) }
        #expect(throws: ConvNetError.argument("TestUnregistered 'test_unregistered': layer class TestUnregistered is not registered; call LayerRegistry.register(UnregisteredLayer.self)")) {
            try KerasModelJSON.json(for: model)
        }
        LayerRegistry.register(UnregisteredLayer.self)
        #expect(try KerasModelJSON.model(fromJSON: KerasModelJSON.json(for: model)).layers[0] is UnregisteredLayer)
    }
}
