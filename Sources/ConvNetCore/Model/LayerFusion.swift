/// Consecutive layers that `Model.forward` runs as one fused op, because the fused kernel skips a
/// full pass over memory (or two) and keeps one activation less for the backward pass:
/// - a `Conv2D` (stride 1, no dilation, no activation or ReLU) followed by a `MaxPooling2D` with 2x2
///   windows at stride 2 and valid padding runs as `conv2dMaxPool2d`, which pools each Winograd tile
///   before it is written (airbench94 and VGG are built of such pairs);
/// - a `BatchNormalization` followed by an `Activation` of ReLU or GELU runs as one
///   `batchNormTraining` (or `batchNormInference`) with the activation fused (the ResNets and
///   airbench94).
///
/// The fused ops equal the two layers to the last bit, so fusing changes speed and memory only. A
/// pair fuses when the second layer reads only the first's output and is its only reader, and the
/// first's output is not asked for (`forward(outputs:)`).
protocol FusingLayer: Layer {
    /// Whether `next`, reading only this layer's output, can run inside this layer's op.
    func fuses(with next: any Layer) -> Bool
    /// This layer followed by `next` (for which `fuses(with:)` holds), as one op.
    mutating func forward(_ inputs: [Tensor], fusedWith next: any Layer, context: inout ForwardContext) throws -> Tensor
}

extension Model {
    /// For each layer that starts a fused pair, the index of the pair's second layer.
    static func fusedPairs(layers: [any Layer], inbound: [[Int]], lastUse: [Int], keeping outputs: Set<Int>) -> [Int: Int] {
        var pairs: [Int: Int] = [:]
        for index in layers.indices.dropLast() {
            guard let first = layers[index] as? any FusingLayer, first.fuses(with: layers[index + 1]),
                  inbound[index + 1] == [index], lastUse[index] == index + 1, !outputs.contains(index) else { continue }
            pairs[index] = index + 1
        }
        return pairs
    }
}

extension Conv2D: FusingLayer {
    /// A `MaxPooling2D` of 2x2 windows at stride 2 with valid padding, after a convolution of stride
    /// 1 without dilation whose activation is none or ReLU (which commutes with the maximum).
    func fuses(with next: any Layer) -> Bool {
        guard let pooling = next as? MaxPooling2D else { return false }
        return strides == [1, 1] && dilation == [1, 1] && (activation == .linear || activation == .relu)
            && pooling.poolSize == [2, 2] && pooling.strides == [2, 2] && pooling.padding == .valid
    }

    /// This layer followed by 2x2 max pooling at stride 2, as `conv2dMaxPool2d`.
    func forward(_ inputs: [Tensor], fusedWith next: any Layer, context: inout ForwardContext) throws -> Tensor {
        guard let kernel else { throw ConvNetError.argument("Conv2D '\(name)' is used before it was built") }
        return try conv2dMaxPool2d(inputs[0], kernel: kernel, bias: bias, padding: padding, fusingReLU: activation == .relu)
    }
}

extension BatchNormalization: FusingLayer {
    /// An `Activation` layer of ReLU or GELU.
    func fuses(with next: any Layer) -> Bool {
        guard let activation = (next as? Activation)?.activation else { return false }
        return activation.isFusible && activation != .linear
    }

    /// This layer followed by the activation, in one batch-normalization op.
    mutating func forward(_ inputs: [Tensor], fusedWith next: any Layer, context: inout ForwardContext) throws -> Tensor {
        try forward(inputs, activation: (next as? Activation)?.activation ?? .linear, context: &context)
    }
}
