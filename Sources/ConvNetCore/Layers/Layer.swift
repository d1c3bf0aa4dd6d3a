/// A shape without its batch axis; `nil` marks a size left open, as in `Input(shape: [nil, nil, 1])`
/// for fully convolutional nets.
public typealias LayerShape = [Int?]

/// What a forward pass needs besides its inputs.
public struct ForwardContext: Sendable {
    /// Training mode: dropout drops, batch normalization uses (and updates) batch statistics.
    public var training: Bool
    /// The source of dropout masks; advanced by every dropout layer.
    public var generator: RandomGenerator
    /// When set, batch normalization in training mode normalises with the statistics of every
    /// process's batch together (synchronised batch normalization, PyTorch's `SyncBatchNorm`); when
    /// `nil` (the default, as DistributedDataParallel), with this process's batch alone.
    public var batchNormalizationGroup: (any ProcessGroup)?

    /// A context in training or inference mode, with dropout masks drawn from `generator`.
    public init(training: Bool, generator: RandomGenerator = RandomGenerator(seed: 0)) {
        self.training = training
        self.generator = generator
    }
}

/// One layer of a network: a value type holding its configuration and weights.
///
/// Layers follow Keras's life cycle: created from their configuration, *built* once the input shape
/// is known (which creates the weights), then called. Weights are listed in Keras's order (kernel,
/// bias; gamma, beta, moving mean, moving variance), which is also the order of Keras's HDF5 files.
public protocol Layer: Sendable {
    /// Unique within a model; Keras's automatic names (`conv2d`, `conv2d_1`, ...) when left empty.
    var name: String { get set }
    /// Keras's class name, e.g. `Conv2D`.
    var kerasClassName: String { get }
    /// How many inputs the layer takes (2 or more only for merge layers).
    var acceptsMultipleInputs: Bool { get }
    /// Whether training updates this layer's weights (Keras `layer.trainable`, default `true`).
    ///
    /// A frozen layer (`false`) keeps its weights: the model counts all of them as non-trainable
    /// (`Model.trainableWeights`, `namedWeights[i].isTrainable`, `parameterCounts`, `summary()`),
    /// the tape computes no gradient for them and the optimizer neither updates nor decays them; a
    /// frozen `BatchNormalization` runs in inference mode even in training (Keras 3). The order of
    /// the layer's weights (`weightNames`, files) does not change. Built-in layers store it; a custom
    /// layer that does not declare `var trainable = true` cannot be frozen (the default ignores `false`).
    var trainable: Bool { get set }
    /// The weights the optimizer updates while the layer is `trainable` (the layer's storage, whatever
    /// `trainable` says; the model leaves them out of training when the layer is frozen).
    var trainableWeights: [Tensor] { get set }
    /// Weights updated otherwise (batch normalization's moving statistics).
    var nonTrainableWeights: [Tensor] { get set }
    /// Keras's names of `trainableWeights + nonTrainableWeights` (`kernel`, `bias`, `gamma`, ...).
    var weightNames: [String] { get }

    /// The output shape for the given input shapes; throws a message naming the layer on mismatch.
    func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape
    /// Creates the weights for the given input shapes.
    mutating func build(inputShapes: [LayerShape], generator: inout RandomGenerator) throws
    /// The forward pass. Inputs carry the batch axis first.
    mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor
    /// The weight penalty this layer adds to the loss (L1/L2 regularisation), if any.
    func regularizationLoss() throws -> Tensor?
}

extension Layer {
    /// One input, unless the layer is a merge layer.
    public var acceptsMultipleInputs: Bool { false }
    /// Always trainable, for layers that do not store the flag; setting `false` has no effect (see
    /// `Model.setTrainable(_:layers:)`, which reports such a layer).
    public var trainable: Bool { get { true } set {} }
    /// No trainable weights by default.
    public var trainableWeights: [Tensor] { get { [] } set {} }
    /// No non-trainable weights by default.
    public var nonTrainableWeights: [Tensor] { get { [] } set {} }
    /// No weights by default.
    public var weightNames: [String] { [] }
    /// Creates the weights for `inputShapes` from the initializers, drawing from `generator`.
    public mutating func build(inputShapes: [LayerShape], generator: inout RandomGenerator) throws {}
    /// No weight penalty by default.
    public func regularizationLoss() throws -> Tensor? { nil }
    /// Number of scalars in all weights.
    public var parameterCount: Int { (trainableWeights + nonTrainableWeights).reduce(0) { $0 + $1.count } }

    /// The single input shape of a one-input layer, or an error naming the layer.
    func singleInput(_ shapes: [LayerShape]) throws -> LayerShape {
        guard shapes.count == 1, let shape = shapes.first else {
            throw ConvNetError.shape(op: "\(kerasClassName) '\(name)'", message: "expects one input, got \(shapes.count)")
        }
        return shape
    }

    /// Throws unless `shape` has `rank` axes (batch excluded); `expected` describes them for the message.
    package func expectRank(_ shape: LayerShape, _ rank: Int, _ expected: String) throws {
        guard shape.count == rank else {
            throw ConvNetError.shape(op: "\(kerasClassName) '\(name)'",
                                     message: "expected input \(expected), got \(describe(layerShape: shape))")
        }
    }
}

/// A layer with an activation applied to its output (`Conv2D`, `Dense`, `Activation`).
public protocol ActivatedLayer: Layer {
    var activation: ActivationFunction { get set }
}

/// A layer with a kernel, an optional bias and an optional kernel penalty (Conv2D, Dense): its
/// weights, their Keras names and its L1/L2 term come from here.
public protocol KernelLayer: ActivatedLayer {
    var kernel: Tensor? { get set }
    var bias: Tensor? { get set }
    var useBias: Bool { get }
    var kernelInitializer: Initializer { get }
    var biasInitializer: Initializer { get }
    var kernelRegularizer: Regularizer? { get set }
}

extension KernelLayer {
    /// `kernel` and, with a bias, `bias` (Keras's weight names).
    public var weightNames: [String] { useBias ? ["kernel", "bias"] : ["kernel"] }

    /// The kernel and, when present, the bias.
    public var trainableWeights: [Tensor] {
        get { [kernel, bias].compactMap { $0 } }
        set {
            kernel = newValue.first
            bias = useBias && newValue.count > 1 ? newValue[1] : nil
        }
    }

    /// The kernel regularizer's penalty, if one is set.
    public func regularizationLoss() throws -> Tensor? {
        guard let kernelRegularizer, let kernel else { return nil }
        return try kernelRegularizer.penalty(kernel)
    }

    /// Creates the kernel of `kernelShape` and, with `useBias`, a bias with one entry per output
    /// (the kernel's last axis), from their initializers.
    mutating func makeWeights(kernelShape: [Int], generator: inout RandomGenerator) throws {
        // A layer's sizes may come from a file or a flag (units, filters, input size): refuse
        // a kernel that cannot be allocated, saying how large it would be, rather than abort.
        _ = try AllocationLimit.elementCount(kernelShape, elementSize: MemoryLayout<Float>.size, "\(kerasClassName) '\(name)': the kernel")
        kernel = kernelInitializer.make(shape: kernelShape, generator: &generator)
        bias = useBias ? biasInitializer.make(shape: [kernelShape[kernelShape.count - 1]], generator: &generator) : nil
    }
}

/// Formats a layer shape as Keras does, with the batch axis: `(None, 28, 28, 1)`.
public func describe(layerShape: LayerShape) -> String {
    "(" + (["None"] + layerShape.map { $0.map(String.init) ?? "None" }).joined(separator: ", ") + ")"
}

/// The fixed sizes of a shape, or an error when one is open (a dense layer needs them).
func requireKnown(_ shape: LayerShape, layer: String, what: String) throws -> [Int] {
    let known = shape.compactMap { $0 }
    guard known.count == shape.count else {
        throw ConvNetError.shape(op: layer, message: "\(what) needs a fixed input size, got \(describe(layerShape: shape))")
    }
    return known
}
