/// Pooling in one pass over each window with the channel loop innermost (NHWC keeps channels
/// contiguous, so it vectorises), spread over the cores. Same results as `PoolingReference`.
public enum PoolingFast {
    public static func forward(input: [Float], mode: PoolingMode, shape s: PoolingShape) -> [Float] {
        let g = s.window, C = s.channels
        var output = [Float](repeating: 0, count: s.outputShape.reduce(1, *))
        input.withUnsafeBufferPointer { a in
            output.withUnsafeMutableBufferPointer { z in
                let source = SendablePointer(a.baseAddress!), target = SendableMutablePointer(z.baseAddress!)
                let outputRows = s.batch * g.outputHeight
                Parallel.forEachChunk(outputRows, costPerItem: g.outputWidth * C * g.kernelHeight * g.kernelWidth) { rows in
                    for row in rows {
                        let i = row / g.outputHeight, h = row % g.outputHeight
                        for w in 0..<g.outputWidth {
                            let b = s.bounds(h: h, w: w)
                            let out = target.pointer + ((i * g.outputHeight + h) * g.outputWidth + w) * C
                            out.update(repeating: mode == .max ? -.infinity : 0, count: C)
                            for y in b.y0..<b.y1 {
                                for x in b.x0..<b.x1 {
                                    let pixel = source.pointer + ((i * g.inputHeight + y) * g.inputWidth + x) * C
                                    switch mode {
                                    case .max: for c in 0..<C { out[c] = max(out[c], pixel[c]) }
                                    case .average: for c in 0..<C { out[c] += pixel[c] }
                                    }
                                }
                            }
                            if mode == .average {
                                let scale = 1 / Float((b.y1 - b.y0) * (b.x1 - b.x0))
                                for c in 0..<C { out[c] *= scale }
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// The gradient with respect to the input. Max pooling recomputes each window's first maximum
    /// (cheaper than storing indices during the forward pass); parallel over images, whose input
    /// regions are disjoint, because overlapping windows add into the same input elements.
    public static func backward(input: [Float], upstream: [Float], mode: PoolingMode, shape s: PoolingShape) -> [Float] {
        let g = s.window, C = s.channels
        var dInput = [Float](repeating: 0, count: input.count)
        input.withUnsafeBufferPointer { a in
            upstream.withUnsafeBufferPointer { dz in
                dInput.withUnsafeMutableBufferPointer { da in
                    let source = SendablePointer(a.baseAddress!), gradient = SendablePointer(dz.baseAddress!)
                    let target = SendableMutablePointer(da.baseAddress!)
                    Parallel.forEachChunk(s.batch, costPerItem: g.outputHeight * g.outputWidth * C * g.kernelHeight * g.kernelWidth) { images in
                        var best = [Float](repeating: 0, count: C), bestIndex = [Int](repeating: 0, count: C)
                        for i in images {
                            for h in 0..<g.outputHeight {
                                for w in 0..<g.outputWidth {
                                    let b = s.bounds(h: h, w: w)
                                    let dOut = gradient.pointer + ((i * g.outputHeight + h) * g.outputWidth + w) * C
                                    switch mode {
                                    case .max:
                                        for c in 0..<C { best[c] = -.infinity; bestIndex[c] = -1 }
                                        for y in b.y0..<b.y1 {
                                            for x in b.x0..<b.x1 {
                                                let base = ((i * g.inputHeight + y) * g.inputWidth + x) * C
                                                for c in 0..<C where source.pointer[base + c] > best[c] || bestIndex[c] < 0 {
                                                    best[c] = source.pointer[base + c]
                                                    bestIndex[c] = base + c
                                                }
                                            }
                                        }
                                        for c in 0..<C { target.pointer[bestIndex[c]] += dOut[c] }
                                    case .average:
                                        let scale = 1 / Float((b.y1 - b.y0) * (b.x1 - b.x0))
                                        for y in b.y0..<b.y1 {
                                            for x in b.x0..<b.x1 {
                                                let destination = target.pointer + ((i * g.inputHeight + y) * g.inputWidth + x) * C
                                                for c in 0..<C { destination[c] += dOut[c] * scale }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return dInput
    }
}
