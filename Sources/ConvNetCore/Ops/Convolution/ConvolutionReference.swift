/// Convolution as the lecture notes write it: one output element at a time (`conv_single_step`), and the
/// backward pass that distributes each `dZ[i, h, w, c]` over the window that produced it.
/// Slow, obviously right, and the oracle the fast implementation is tested against.
public enum ConvolutionReference {
    /// `Z = Σ (a_slice_prev ⊙ W) + b` over one window `(f_h, f_w, n_C_prev)` for filter `c`.
    /// Positions in the zero padding contribute nothing.
    static func convSingleStep(_ a: [Float], image: Int, h: Int, w: Int, filter c: Int,
                               kernel W: [Float], bias b: Float, shape s: ConvolutionShape) -> Float {
        let g = s.window
        var z: Float = 0
        for i in 0..<g.kernelHeight {
            for j in 0..<g.kernelWidth {
                let y = g.inputRow(h, i), x = g.inputColumn(w, j)
                guard y >= 0, y < g.inputHeight, x >= 0, x < g.inputWidth else { continue }
                for k in 0..<s.inputChannels {
                    let aIndex = ((image * g.inputHeight + y) * g.inputWidth + x) * s.inputChannels + k
                    let wIndex = ((i * g.kernelWidth + j) * s.inputChannels + k) * s.outputChannels + c
                    z += a[aIndex] * W[wIndex]
                }
            }
        }
        return z + b
    }

    /// `conv_forward`: `Z[i, h, w, c] = conv_single_step(A_prev[i, window(h, w)], W[..., c], b[c])`.
    public static func forward(input: [Float], kernel: [Float], bias: [Float]?, shape s: ConvolutionShape) -> [Float] {
        var Z = [Float](repeating: 0, count: s.outputShape.reduce(1, *))
        var index = 0
        for i in 0..<s.batch {
            for h in 0..<s.window.outputHeight {
                for w in 0..<s.window.outputWidth {
                    for c in 0..<s.outputChannels {
                        Z[index] = convSingleStep(input, image: i, h: h, w: w, filter: c, kernel: kernel,
                                                  bias: bias?[c] ?? 0, shape: s)
                        index += 1
                    }
                }
            }
        }
        return Z
    }

    /// `conv_backward`: for every output element,
    /// `dA_prev[window] += W[..., c] · dZ[i, h, w, c]`, `dW[..., c] += a_slice · dZ[i, h, w, c]`,
    /// `db[c] += dZ[i, h, w, c]`. Contributions that fall in the padding are dropped.
    public static func backward(input: [Float], kernel: [Float], upstream dZ: [Float], shape s: ConvolutionShape)
        -> (input: [Float], kernel: [Float], bias: [Float]) {
        let g = s.window
        var dA = [Float](repeating: 0, count: input.count)
        var dW = [Float](repeating: 0, count: kernel.count)
        var db = [Float](repeating: 0, count: s.outputChannels)
        for image in 0..<s.batch {
            for h in 0..<g.outputHeight {
                for w in 0..<g.outputWidth {
                    for c in 0..<s.outputChannels {
                        let dz = dZ[((image * g.outputHeight + h) * g.outputWidth + w) * s.outputChannels + c]
                        db[c] += dz
                        for i in 0..<g.kernelHeight {
                            for j in 0..<g.kernelWidth {
                                let y = g.inputRow(h, i), x = g.inputColumn(w, j)
                                guard y >= 0, y < g.inputHeight, x >= 0, x < g.inputWidth else { continue }
                                for k in 0..<s.inputChannels {
                                    let aIndex = ((image * g.inputHeight + y) * g.inputWidth + x) * s.inputChannels + k
                                    let wIndex = ((i * g.kernelWidth + j) * s.inputChannels + k) * s.outputChannels + c
                                    dA[aIndex] += kernel[wIndex] * dz
                                    dW[wIndex] += input[aIndex] * dz
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dA, dW, db)
    }
}
