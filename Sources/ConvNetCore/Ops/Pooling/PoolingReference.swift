/// Pooling as the lecture notes write it (`pool_forward`, `pool_backward`, `create_mask_from_window`,
/// `distribute_value`): one output element at a time. The oracle for `PoolingFast`.
public enum PoolingReference {
    /// The window of channel `c` under output pixel `(h, w)` of image `i`, as a list of
    /// (input index, value) pairs in row-major scan order.
    static func slice(_ a: [Float], image i: Int, h: Int, w: Int, channel c: Int, shape s: PoolingShape) -> [(Int, Float)] {
        let b = s.bounds(h: h, w: w), g = s.window
        var values: [(Int, Float)] = []
        for y in b.y0..<b.y1 {
            for x in b.x0..<b.x1 {
                let index = ((i * g.inputHeight + y) * g.inputWidth + x) * s.channels + c
                values.append((index, a[index]))
            }
        }
        return values
    }

    /// `pool_forward`: `A[i, h, w, c] = max` or `mean` of the window.
    public static func forward(input: [Float], mode: PoolingMode, shape s: PoolingShape) -> [Float] {
        var A: [Float] = []
        A.reserveCapacity(s.outputShape.reduce(1, *))
        for i in 0..<s.batch {
            for h in 0..<s.window.outputHeight {
                for w in 0..<s.window.outputWidth {
                    for c in 0..<s.channels {
                        let values = slice(input, image: i, h: h, w: w, channel: c, shape: s).map(\.1)
                        switch mode {
                        case .max: A.append(values.max() ?? 0)
                        case .average: A.append(values.reduce(0, +) / Float(values.count))
                        }
                    }
                }
            }
        }
        return A
    }

    /// `pool_backward`: max pooling routes `dA[i, h, w, c]` to the window's maximum
    /// (`create_mask_from_window`; on ties, to the first in scan order, as TensorFlow and PyTorch do,
    /// so the gradient's total is conserved); average pooling spreads it evenly over the window
    /// (`distribute_value`: `dz / (n_H · n_W)` of the window).
    public static func backward(input: [Float], upstream dA: [Float], mode: PoolingMode, shape s: PoolingShape) -> [Float] {
        var dAPrev = [Float](repeating: 0, count: input.count)
        var index = 0
        for i in 0..<s.batch {
            for h in 0..<s.window.outputHeight {
                for w in 0..<s.window.outputWidth {
                    for c in 0..<s.channels {
                        let window = slice(input, image: i, h: h, w: w, channel: c, shape: s)
                        switch mode {
                        case .max:
                            let maximum = window.map(\.1).max() ?? 0
                            if let first = window.first(where: { $0.1 == maximum }) { dAPrev[first.0] += dA[index] }
                        case .average:
                            let share = dA[index] / Float(window.count)
                            for (position, _) in window { dAPrev[position] += share }
                        }
                        index += 1
                    }
                }
            }
        }
        return dAPrev
    }
}
