/// Consecutive layers that `Model.forward` runs as one fused op, because the fused kernel skips a
/// full pass over memory. One pair today: a `Conv2D` (stride 1, no dilation, no activation or
/// ReLU) whose only reader is a `MaxPooling2D` with 2x2 windows at stride 2 and valid padding runs
/// as `conv2dMaxPool2d`, which pools each Winograd tile before it is written (airbench94 and VGG
/// are built of such pairs). The fused op equals the two layers to the last bit, so fusing changes
/// speed and memory only; a layer whose output is asked for (`forward(outputs:)`) is not fused.
extension Model {
    /// For each layer that starts a fused pair, the index of the pair's second layer.
    static func fusedPairs(layers: [any Layer], inbound: [[Int]], lastUse: [Int], keeping outputs: Set<Int>) -> [Int: Int] {
        var pairs: [Int: Int] = [:]
        for index in layers.indices.dropLast() {
            guard let convolution = layers[index] as? Conv2D, convolution.fusesWithMaxPooling,
                  let pooling = layers[index + 1] as? MaxPooling2D, pooling.poolSize == [2, 2], pooling.strides == [2, 2],
                  pooling.padding == .valid, inbound[index + 1] == [index], lastUse[index] == index + 1,
                  !outputs.contains(index) else { continue }
            pairs[index] = index + 1
        }
        return pairs
    }
}

extension Conv2D {
    /// Whether `conv2dMaxPool2d` can stand for this layer followed by max pooling: stride 1, no
    /// dilation, and no activation or ReLU (which commutes with the maximum).
    var fusesWithMaxPooling: Bool {
        strides == [1, 1] && dilation == [1, 1] && (activation == .linear || activation == .relu)
    }

    /// This layer followed by 2x2 max pooling at stride 2 (`fusesWithMaxPooling` must hold).
    func forwardMaxPooled(_ input: Tensor) throws -> Tensor {
        guard let kernel else { throw ConvNetError.argument("Conv2D '\(name)' is used before it was built") }
        return try conv2dMaxPool2d(input, kernel: kernel, bias: bias, padding: padding, fusingReLU: activation == .relu)
    }
}
