/// Runs of consecutive layers that `Model.forward` runs as one fused op, because the fused kernel
/// skips a full pass over memory (or several) and keeps activations fewer for the backward pass:
/// - a `Conv2D` (stride 1, no dilation, no activation or ReLU) followed by a `MaxPooling2D` with 2x2
///   windows at stride 2 and valid padding runs as `conv2dMaxPool2d`, which pools each Winograd tile
///   before it is written (airbench94 and VGG are built of such pairs);
/// - a `BatchNormalization` followed by an `Activation` of ReLU or GELU runs as one
///   `batchNormTraining` (or `batchNormInference`) with the activation fused (the ResNets and
///   airbench94);
/// - a `BatchNormalization` followed by an `Add` of two inputs (the other one the shortcut of a
///   residual block), and optionally by such an `Activation`, runs as one batch-normalization op
///   that adds the shortcut before the activation (`adding:`): the end of every ResNet block;
/// - at inference only, a `Conv2D` without activation followed by a `BatchNormalization` (and what
///   that fuses with) runs as one convolution whose kernel and bias have the normalization folded
///   in (`BatchNormalization.folded`), its ReLU applied in the convolution's epilogue, or the
///   shortcut added and the activation applied in one pass after it.
///
/// The fused ops equal the layers they replace to the last bit, so fusing changes speed and memory
/// only; except the folded normalization, which computes the same function with different
/// rounding (`(Σ x·w + b)·s + t` becomes `Σ x·(w·s) + (b·s + t)`), as PyTorch's
/// `fuse_conv_bn_eval` and ONNX Runtime do: within about 1e-6 of the largest output
/// (`BatchNormalizationFoldingTests`). A run fuses when each of its later layers reads the output
/// of the layer before it (and, for `Add`, one tensor computed before the run) and is that
/// output's only reader, and no output of the run but the last is asked for (`forward(outputs:)`).
protocol FusingLayer: Layer {
    /// How many of `following` (the layers after this one, each reading its predecessor's output
    /// and `otherInputs[k]` tensors besides) this layer's op can run with it in a pass in training
    /// or inference mode (`training`): 0 for none.
    func fusedCount(with following: ArraySlice<any Layer>, otherInputs: [Int], training: Bool) -> Int
    /// This layer followed by `following` (`fusedCount` of them), as one op; `otherInputs` are the
    /// tensors the later layers read besides their predecessor's output, in layer order.
    mutating func forward(_ inputs: [Tensor], fusedWith following: ArraySlice<any Layer>, otherInputs: [Tensor],
                          context: inout ForwardContext) throws -> Tensor
}

extension Model {
    /// For each layer that starts a fused run, the index of the run's last layer.
    static func fusedRuns(layers: [any Layer], inbound: [[Int]], lastUse: [Int], keeping outputs: Set<Int>,
                          training: Bool) -> [Int: Int] {
        var runs: [Int: Int] = [:]
        var index = 0
        while index < layers.count {
            guard let first = layers[index] as? any FusingLayer else { index += 1; continue }
            // The longest chain after `index` in which each layer reads its predecessor once, is its
            // only reader, and reads nothing else from inside the chain.
            var end = index, otherInputs: [Int] = []
            while end + 1 < layers.count, lastUse[end] == end + 1, !outputs.contains(end) {
                let reads = inbound[end + 1]
                guard reads.filter({ $0 == end }).count == 1,
                      reads.allSatisfy({ $0 == end || $0 == Self.inputNode || $0 < index }) else { break }
                otherInputs.append(reads.count - 1)
                end += 1
            }
            let count = first.fusedCount(with: layers[(index + 1)..<(end + 1)], otherInputs: otherInputs, training: training)
            if count > 0 { runs[index] = index + count }
            index += count + 1
        }
        return runs
    }
}

extension Conv2D: FusingLayer {
    /// A `MaxPooling2D` of 2x2 windows at stride 2 with valid padding, after a convolution of stride
    /// 1 without dilation whose activation is none or ReLU (which commutes with the maximum). At
    /// inference, after a convolution without activation, a `BatchNormalization` and the layers it
    /// fuses with.
    func fusedCount(with following: ArraySlice<any Layer>, otherInputs: [Int], training: Bool) -> Int {
        if let pooling = following.first as? MaxPooling2D {
            let fuses = strides == [1, 1] && dilation == [1, 1] && (activation == .linear || activation == .relu)
                && pooling.poolSize == [2, 2] && pooling.strides == [2, 2] && pooling.padding == .valid
            return fuses ? 1 : 0
        }
        guard !training, activation == .linear, let normalization = following.first as? BatchNormalization,
              otherInputs.first == 0 else { return 0 }
        return 1 + normalization.fusedCount(with: following.dropFirst(), otherInputs: Array(otherInputs.dropFirst()),
                                            training: training)
    }

    /// This layer followed by 2x2 max pooling at stride 2, as `conv2dMaxPool2d`; or by batch
    /// normalization (inference), as one convolution with the normalization folded in.
    mutating func forward(_ inputs: [Tensor], fusedWith following: ArraySlice<any Layer>, otherInputs: [Tensor],
                          context: inout ForwardContext) throws -> Tensor {
        guard let kernel else { throw ConvNetError.argument("Conv2D '\(name)' is used before it was built") }
        guard var normalization = following.first as? BatchNormalization else {
            return try conv2dMaxPool2d(inputs[0], kernel: kernel, bias: bias, padding: padding, fusingReLU: activation == .relu)
        }
        let rest = following.dropFirst()
        let activation = (rest.last as? Activation)?.activation ?? .linear
        let residual = rest.first is Add ? otherInputs.first : nil
        // Folded weights are plain values: when a tape watches any input or weight (saliency maps,
        // gradients in inference mode), the two layers run as they are, so that gradients reach them.
        let watched = ([inputs[0], kernel, bias, residual] + normalization.trainableWeights).contains { $0?.tapeEntry != nil }
        guard !watched, let folded = normalization.folded(kernel: kernel, bias: bias) else {
            let z = try forward(inputs, context: &context)
            return try normalization.forward([z], activation: activation, adding: residual, context: &context)
        }
        let z = try conv2d(inputs[0], kernel: folded.kernel, bias: folded.bias, strides: (strides[0], strides[1]), padding: padding,
                           dilation: (dilation[0], dilation[1]), implementation: .fast,
                           fusingReLU: residual == nil && activation == .relu)
        if let residual { return try addingActivated(z, residual, activation: activation) }
        return activation == .relu ? z : activate(z, activation)
    }
}

extension BatchNormalization: FusingLayer {
    /// An `Activation` layer of ReLU or GELU; or an `Add` of this layer's output and one other
    /// tensor, and such an activation after it if there is one.
    func fusedCount(with following: ArraySlice<any Layer>, otherInputs: [Int], training: Bool) -> Int {
        let isFusedActivation = { (layer: any Layer) in
            guard let activation = (layer as? Activation)?.activation else { return false }
            return activation.isFusible && activation != .linear
        }
        guard let next = following.first else { return 0 }
        if isFusedActivation(next) { return 1 }
        guard next is Add, otherInputs.first == 1 else { return 0 }
        return following.dropFirst().first.map(isFusedActivation) == true ? 2 : 1
    }

    /// This layer, the `Add` and the activation in one batch-normalization op.
    mutating func forward(_ inputs: [Tensor], fusedWith following: ArraySlice<any Layer>, otherInputs: [Tensor],
                          context: inout ForwardContext) throws -> Tensor {
        let activation = (following.last as? Activation)?.activation ?? .linear
        guard following.first is Add else { return try forward(inputs, activation: activation, context: &context) }
        return try forward(inputs, activation: activation, adding: otherInputs.first, context: &context)
    }
}
