/// A stride-1 convolution followed by 2x2 max pooling (stride 2, valid), as one op:
///
///     P[i, h, w, c] = max over p, q ∈ {0, 1} of Z[i, 2h + p, 2w + q, c],   Z = conv2d(A, W) + b  (then max(0, Z) when fusingReLU)
///
/// which is `maxPool2d(conv2d(input, ...), size: (2, 2))` (the definition, and the reference
/// implementation). The fast implementation never writes `Z`: when Winograd applies
/// (`ConvolutionWinograd.applies(to:)`), every output tile holds whole pooling windows, which are
/// reduced as the tile leaves the output transform, keeping one number per pooled value to say
/// which pixel won; the backward pass routes `dP` to the winners inside the backward transform. At
/// airbench94's batch of 1024 that skips writing and re-reading a 252 MB tensor (and its gradient)
/// twice per step. Other shapes run the two fast ops one after the other.
///
/// The results equal the two fast ops' to the last bit: the same sums reach the same comparisons
/// (the first of equal values wins, as `PoolingReference` routes ties), and `max(0, max Z)` is
/// `max` of `max(0, Z)`.
///
/// - Parameters:
///   - input: `(m, n_H_prev, n_W_prev, n_C_prev)`.
///   - kernel: `(f_h, f_w, n_C_prev, n_C)`.
///   - bias: `(n_C)`, optional.
///   - padding: the convolution's; its strides and dilation are 1.
///   - fusingReLU: `max(0, ·)` between the convolution and the pooling (a `Conv2D` layer's `activation: .relu`).
/// - Returns: `(m, ⌊n_H/2⌋, ⌊n_W/2⌋, n_C)` for the convolution's output size `n_H × n_W`.
public func conv2dMaxPool2d(_ input: Tensor, kernel: Tensor, bias: Tensor? = nil, padding: Padding = .valid,
                            fusingReLU relu: Bool = false, implementation: Implementation = .fast) throws -> Tensor {
    let shape = try ConvolutionShape(input: input.shape, kernel: kernel.shape, bias: bias?.shape,
                                     strides: (1, 1), padding: padding, dilation: (1, 1))
    let (height, width) = (shape.window.outputHeight, shape.window.outputWidth)
    guard implementation == .fast, ConvolutionWinograd.applies(to: shape), height >= 2, width >= 2 else {
        let z = try conv2d(input, kernel: kernel, bias: bias, strides: (1, 1), padding: padding, dilation: (1, 1),
                           implementation: implementation, fusingReLU: relu)
        return try maxPool2d(z, size: (2, 2), implementation: implementation)
    }
    let cOut = shape.outputChannels
    let (pooled, winners) = ConvolutionWinograd.forwardMaxPooled(
        input: input.scalars, kernel: kernel.scalars, bias: bias?.scalars ?? [Float](repeating: 0, count: cOut), shape: shape, relu: relu)
    return record(Tensor(validShape: [shape.batch, height / 2, width / 2, cOut], scalars: pooled),
                  inputs: [input, kernel, bias]) { upstream, needed in
        let gradients = ConvolutionWinograd.backwardMaxPooled(input: input.scalars, kernel: kernel.scalars, upstream: upstream.scalars,
                                                              winners: winners, shape: shape, needInput: needed[0])
        return [gradients.input.map { Tensor(validShape: shape.inputShape, scalars: $0) },
                Tensor(validShape: shape.kernelShape, scalars: gradients.kernel),
                Tensor(validShape: [cOut], scalars: gradients.bias)]
    }
}
