/// Pooling in one pass over each window with the channel loop innermost (NHWC keeps channels
/// contiguous, so it vectorises), spread over the cores. Same results as `PoolingReference`.
public enum PoolingFast {
    public static func forward(input: [Float], mode: PoolingMode, shape s: PoolingShape) -> [Float] {
        let g = s.window, C = s.channels
        return [Float](unsafeUninitializedCapacity: s.outputShape.reduce(1, *)) { output, initialized in
            input.withUnsafeBufferPointer { a in
                let source = SendablePointer(a.baseAddress!), target = SendableMutablePointer(output.baseAddress!)
                let outputRows = s.batch * g.outputHeight
                Parallel.forEachChunk(outputRows, costPerItem: g.outputWidth * C * g.kernelHeight * g.kernelWidth) { rows in
                    switch mode {
                    case .max: poolRows(rows, source.pointer, target.pointer, s, average: false) { Swift.max($0, $1) }
                    case .average: poolRows(rows, source.pointer, target.pointer, s, average: true) { $0 + $1 }
                    }
                }
            }
            initialized = output.count
        }
    }

    /// Output rows `rows` (of all `m · n_H` rows): each window's elements combined with `combine`,
    /// starting from its first element, then divided by the window's size when `average`.
    @inline(__always)
    private static func poolRows(_ rows: Range<Int>, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                                 _ s: PoolingShape, average: Bool, combine: (Float, Float) -> Float) {
        let g = s.window, C = s.channels
        for row in rows {
            let image = input + row / g.outputHeight * g.inputHeight * g.inputWidth * C, h = row % g.outputHeight
            for w in 0..<g.outputWidth {
                let b = s.bounds(h: h, w: w)
                let out = output + (row * g.outputWidth + w) * C
                let first = image + (b.y0 * g.inputWidth + b.x0) * C
                for c in 0..<C { out[c] = first[c] }
                for y in b.y0..<b.y1 {
                    for x in b.x0..<b.x1 where y != b.y0 || x != b.x0 {
                        let pixel = image + (y * g.inputWidth + x) * C
                        for c in 0..<C { out[c] = combine(out[c], pixel[c]) }
                    }
                }
                if average {
                    let scale = 1 / Float((b.y1 - b.y0) * (b.x1 - b.x0))
                    for c in 0..<C { out[c] *= scale }
                }
            }
        }
    }

    /// The gradient with respect to the input; `output` is the forward pass's result, which max
    /// pooling needs (and recomputes when it is not given). Parallel over images, whose input
    /// regions are disjoint, because overlapping windows add into the same input elements.
    public static func backward(input: [Float], upstream: [Float], mode: PoolingMode, shape s: PoolingShape,
                                output: [Float]? = nil) -> [Float] {
        let g = s.window, C = s.channels
        let maxima = mode == .max ? output ?? forward(input: input, mode: .max, shape: s) : upstream
        var dInput = [Float](repeating: 0, count: input.count)
        withSendablePointers([input, upstream, maxima]) { p in
            let (image, dz, maxima) = (p[0], p[1], p[2])
            dInput.withUnsafeMutableBufferPointer { da in
                let target = SendableMutablePointer(da.baseAddress!)
                let (imageSize, outputSize) = (g.inputHeight * g.inputWidth * C, g.outputHeight * g.outputWidth * C)
                Parallel.forEachChunk(s.batch, costPerItem: outputSize * g.kernelHeight * g.kernelWidth) { images in
                    for i in images {
                        switch mode {
                        case .max:
                            routeToMaxima(image.pointer + i * imageSize, maxima.pointer + i * outputSize, dz.pointer + i * outputSize,
                                          into: target.pointer + i * imageSize, s)
                        case .average:
                            spreadOverWindows(dz.pointer + i * outputSize, into: target.pointer + i * imageSize, s)
                        }
                    }
                }
            }
        }
        return dInput
    }

    /// Max pooling's backward pass for one image: each `dOut[h, w, c]` goes to the first element of
    /// its window, in scan order, that equals the window's maximum (as `PoolingReference`,
    /// TensorFlow and PyTorch choose). The gradient not yet routed stays in a register, so the
    /// selects compile to masks rather than to branches on the data, which would mispredict.
    private static func routeToMaxima(_ image: UnsafePointer<Float>, _ maxima: UnsafePointer<Float>,
                                      _ dOutput: UnsafePointer<Float>, into dImage: UnsafeMutablePointer<Float>,
                                      _ s: PoolingShape) {
        let g = s.window, C = s.channels
        for h in 0..<g.outputHeight {
            for w in 0..<g.outputWidth {
                let b = s.bounds(h: h, w: w), offset = (h * g.outputWidth + w) * C
                for c in 0..<C {
                    let maximum = maxima[offset + c]
                    var pending = dOutput[offset + c]
                    for y in b.y0..<b.y1 {
                        for x in b.x0..<b.x1 {
                            let pixel = (y * g.inputWidth + x) * C + c
                            let routed = image[pixel] == maximum ? pending : 0
                            dImage[pixel] += routed
                            pending -= routed  // zero once routed (subtracting, not selecting, stays branch-free)
                        }
                    }
                }
            }
        }
    }

    /// Average pooling's backward pass for one image: `dOut / window size` added to every element
    /// of the window (padded positions excluded, as in the forward pass).
    private static func spreadOverWindows(_ dOutput: UnsafePointer<Float>, into dImage: UnsafeMutablePointer<Float>,
                                          _ s: PoolingShape) {
        let g = s.window, C = s.channels
        for h in 0..<g.outputHeight {
            for w in 0..<g.outputWidth {
                let b = s.bounds(h: h, w: w)
                let dOut = dOutput + (h * g.outputWidth + w) * C
                let scale = 1 / Float((b.y1 - b.y0) * (b.x1 - b.x0))
                for y in b.y0..<b.y1 {
                    for x in b.x0..<b.x1 {
                        let destination = dImage + (y * g.inputWidth + x) * C
                        for c in 0..<C { destination[c] += dOut[c] * scale }
                    }
                }
            }
        }
    }
}
