/// Fully connected layer (Keras `Dense`): `activation(x · kernel + bias)`.
///
/// Input `(m, n_in)`, kernel `(n_in, units)`, bias `(units)`, output `(m, units)`.
public struct Dense: KernelLayer {
    public var name: String
    public let units: Int
    public var activation: Activation
    public let useBias: Bool
    public let kernelInitializer: Initializer
    public let biasInitializer: Initializer
    public var kernelRegularizer: Regularizer?
    public var kernel: Tensor?
    public var bias: Tensor?

    public init(_ units: Int, activation: Activation = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                kernelRegularizer: Regularizer? = nil, name: String = "") {
        self.units = units
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
        self.kernelRegularizer = kernelRegularizer
        self.name = name
    }

    public var kerasClassName: String { "Dense" }

    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape {
        let input = try singleInput(inputShapes)
        try expectRank(input, 1, "(features) — add a Flatten layer before Dense")
        guard units > 0 else { throw ConvNetError.argument("Dense '\(name)': units must be positive, got \(units)") }
        _ = try requireKnown(input, layer: "Dense '\(name)'", what: "a dense layer")
        return [units]
    }

    public mutating func build(inputShapes: [LayerShape], generator: inout RandomGenerator) throws {
        _ = try outputShape(for: inputShapes)
        let features = try requireKnown(singleInput(inputShapes), layer: "Dense '\(name)'", what: "a dense layer")[0]
        makeWeights(kernelShape: [features, units], generator: &generator)
    }

    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        guard let kernel else { throw ConvNetError.argument("Dense '\(name)' is used before it was built") }
        guard inputs[0].rank == 2, inputs[0].shape[1] == kernel.shape[0] else {
            throw ConvNetError.shape(op: "Dense '\(name)'", message: "expected input (None, \(kernel.shape[0])), got \(describe(shape: inputs[0].shape))")
        }
        return activate(try dense(inputs[0], kernel: kernel, bias: bias), activation)
    }
}
