/// 2-D convolution layer (Keras `Conv2D`): `activation(conv2d(x, kernel) + bias)`.
///
/// Input `(m, n_H_prev, n_W_prev, n_C_prev)`, kernel `(f_h, f_w, n_C_prev, filters)`, bias
/// `(filters)`, output `(m, n_H, n_W, filters)`. Spatial sizes may be open (`nil`): a fully
/// convolutional net accepts any image size.
public struct Conv2D: KernelLayer {
    public var name: String
    public let filters: Int
    public let kernelSize: [Int]
    public let strides: [Int]
    public let padding: Padding
    public let dilation: [Int]
    public var activation: Activation
    public let useBias: Bool
    public let kernelInitializer: Initializer
    public let biasInitializer: Initializer
    public var kernelRegularizer: Regularizer?
    /// `(f_h, f_w, n_C_prev, filters)`; nil until built.
    public var kernel: Tensor?
    /// `(filters)`; nil until built or when `useBias` is false.
    public var bias: Tensor?

    public init(_ filters: Int, kernelSize: Int, strides: Int = 1, padding: Padding = .valid, dilation: Int = 1,
                activation: Activation = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                kernelRegularizer: Regularizer? = nil, name: String = "") {
        self.init(filters, kernelSize: [kernelSize, kernelSize], strides: [strides, strides], padding: padding,
                  dilation: [dilation, dilation], activation: activation, useBias: useBias,
                  kernelInitializer: kernelInitializer, biasInitializer: biasInitializer,
                  kernelRegularizer: kernelRegularizer, name: name)
    }

    public init(_ filters: Int, kernelSize: [Int], strides: [Int] = [1, 1], padding: Padding = .valid,
                dilation: [Int] = [1, 1], activation: Activation = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                kernelRegularizer: Regularizer? = nil, name: String = "") {
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides
        self.padding = padding
        self.dilation = dilation
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
        self.kernelRegularizer = kernelRegularizer
        self.name = name
    }

    public var kerasClassName: String { "Conv2D" }

    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape {
        let input = try singleInput(inputShapes)
        try expectRank(input, 3, "(height, width, channels)")
        guard filters > 0, kernelSize.count == 2, strides.count == 2, dilation.count == 2 else {
            throw ConvNetError.argument("Conv2D '\(name)': filters must be positive and kernel size, strides, dilation 2-D")
        }
        guard input[2] != nil else {
            throw ConvNetError.shape(op: "Conv2D '\(name)'", message: "the channel count must be known, got \(describe(layerShape: input))")
        }
        let spatial = try (0..<2).map { axis -> Int? in
            guard let length = input[axis] else { return nil }
            return try WindowGeometry.axis(op: "Conv2D '\(name)'", length: length, kernel: kernelSize[axis], stride: strides[axis],
                                           dilation: dilation[axis], padding: padding, vertical: axis == 0).output
        }
        return spatial + [filters]
    }

    public mutating func build(inputShapes: [LayerShape], generator: inout RandomGenerator) throws {
        let input = try singleInput(inputShapes)
        _ = try outputShape(for: inputShapes)
        let channels = input[2] ?? 0
        makeWeights(kernelShape: [kernelSize[0], kernelSize[1], channels, filters], generator: &generator)
    }

    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        guard let kernel else { throw ConvNetError.argument("Conv2D '\(name)' is used before it was built") }
        let z = try conv2d(inputs[0], kernel: kernel, bias: bias, strides: (strides[0], strides[1]), padding: padding,
                           dilation: (dilation[0], dilation[1]), implementation: .fast, fusingReLU: activation == .relu)
        return activation == .relu ? z : activate(z, activation)
    }
}
