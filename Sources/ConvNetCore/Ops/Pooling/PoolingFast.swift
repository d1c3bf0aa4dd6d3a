/// Pooling with the channel loop innermost (NHWC keeps channels contiguous), spread over the
/// cores. Same results as `PoolingReference`.
public enum PoolingFast {
    /// Pools each channel of each image over its windows (padded positions take no part).
    ///
    /// - Parameters:
    ///   - input: The `(m, n_H_prev, n_W_prev, n_C)` input, row-major (NHWC), `s.inputShape` elements.
    ///   - mode: `.max` takes each window's largest value; `.average` its mean over the in-image positions.
    ///   - s: The validated input and window geometry (`shape:` at the call site).
    /// - Returns: The `(m, n_H, n_W, n_C)` output, row-major, `s.outputShape` elements.
    public static func forward(input: [Float], mode: PoolingMode, shape s: PoolingShape) -> [Float] {
        let g = s.window, C = s.channels
        return [Float](unsafeUninitializedCapacity: s.outputShape.reduce(1, *)) { output, initialized in
            input.withUnsafeBufferPointer { a in
                let source = SendablePointer(a.baseAddress!), target = SendableMutablePointer(output.baseAddress!)
                let outputRows = s.batch * g.outputHeight
                Parallel.forEachChunk(outputRows, costPerItem: g.outputWidth * C * g.kernelHeight * g.kernelWidth) { rows in
                    switch mode {
                    case .max: maxPoolRows(rows, source.pointer, target.pointer, s)
                    case .average: averagePoolRows(rows, source.pointer, target.pointer, s)
                    }
                }
            }
            initialized = output.count
        }
    }

    /// Max pooling of output rows `rows` (of all `m · n_H` rows), separably: the maximum over the
    /// window's input rows, element by element along the whole row (`n_W · n_C` contiguous floats,
    /// vectorised), then over each window's columns of that. The maximum does not depend on the order.
    private static func maxPoolRows(_ rows: Range<Int>, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                                    _ s: PoolingShape) {
        let g = s.window, C = s.channels, rowLength = g.inputWidth * C
        ScratchBuffers.withBuffer(count: rowLength) { columnMaxima in
            for row in rows {
                let image = input + row / g.outputHeight * g.inputHeight * rowLength, h = row % g.outputHeight
                let b = s.bounds(h: h, w: 0)
                columnMaxima.update(from: image + b.y0 * rowLength, count: rowLength)
                for y in b.y0 + 1..<b.y1 { VectorKernels.maximum(columnMaxima, image + y * rowLength, count: rowLength) }
                for w in 0..<g.outputWidth {
                    let b = s.bounds(h: h, w: w), out = output + (row * g.outputWidth + w) * C
                    for c in 0..<C { out[c] = columnMaxima[b.x0 * C + c] }
                    for x in b.x0 + 1..<b.x1 {
                        for c in 0..<C { out[c] = Swift.max(out[c], columnMaxima[x * C + c]) }
                    }
                }
            }
        }
    }

    /// Average pooling of output rows `rows`: each window's elements summed in scan order (the
    /// order of `PoolingReference`), then divided by the window's size.
    private static func averagePoolRows(_ rows: Range<Int>, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                                        _ s: PoolingShape) {
        let g = s.window, C = s.channels
        for row in rows {
            let image = input + row / g.outputHeight * g.inputHeight * g.inputWidth * C, h = row % g.outputHeight
            for w in 0..<g.outputWidth {
                let b = s.bounds(h: h, w: w), out = output + (row * g.outputWidth + w) * C
                out.update(repeating: 0, count: C)
                for y in b.y0..<b.y1 {
                    for x in b.x0..<b.x1 {
                        let pixel = image + (y * g.inputWidth + x) * C
                        for c in 0..<C { out[c] += pixel[c] }
                    }
                }
                let scale = 1 / Float((b.y1 - b.y0) * (b.x1 - b.x0))
                for c in 0..<C { out[c] *= scale }
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
                        case .max where s.windowsAreDisjoint:
                            routeToDisjointMaxima(image.pointer + i * imageSize, maxima.pointer + i * outputSize,
                                                  dz.pointer + i * outputSize, into: target.pointer + i * imageSize, s)
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
        typealias Vector = SIMD8<Float>
        let g = s.window, C = s.channels, vectorEnd = C / Vector.scalarCount * Vector.scalarCount
        for h in 0..<g.outputHeight {
            for w in 0..<g.outputWidth {
                let b = s.bounds(h: h, w: w), offset = (h * g.outputWidth + w) * C
                // Eight channels at a time, then the rest one by one: the same selects either way.
                for c in stride(from: 0, to: vectorEnd, by: Vector.scalarCount) {
                    let maximum = load(maxima + offset + c)
                    var pending = load(dOutput + offset + c)
                    for y in b.y0..<b.y1 {
                        for x in b.x0..<b.x1 {
                            let pixel = (y * g.inputWidth + x) * C + c
                            let routed = Vector(repeating: 0).replacing(with: pending, where: load(image + pixel) .== maximum)
                            store(load(dImage + pixel) + routed, to: dImage + pixel)
                            pending -= routed
                        }
                    }
                }
                for c in vectorEnd..<C {
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

    /// `routeToMaxima` for windows that share no input element (each stride at least its window
    /// side: the usual 2x2 pooling with stride 2). Every input element then receives at most one
    /// gradient, so it is written rather than added, and the input is visited in memory order:
    /// output row by output row, input row by input row, window by window, pixel by pixel.
    ///
    /// The channels go in vectors of 8 even when `n_C` is not a multiple of 8 (LeNet-5's 6): the
    /// last vector's spare lanes read the next pixel, compare with NaN (which equals nothing), and
    /// write zeros onto the next pixel, which the visit in memory order either rewrites next or
    /// leaves at zero because no window covers it. Only the image's last 8 floats are read and
    /// written lane by lane, so no thread writes another image's gradient. Each window's maximum
    /// and not-yet-routed gradient wait in `state`, 8 floats per vector, so the loop never reloads
    /// a vector it stored at an overlapping address.
    private static func routeToDisjointMaxima(_ image: UnsafePointer<Float>, _ maxima: UnsafePointer<Float>,
                                              _ dOutput: UnsafePointer<Float>, into dImage: UnsafeMutablePointer<Float>,
                                              _ s: PoolingShape) {
        typealias Vector = SIMD8<Float>
        let g = s.window, C = s.channels, lanes = Vector.scalarCount, vectors = (C + lanes - 1) / lanes
        let imageSize = g.inputHeight * g.inputWidth * C, outputSize = g.outputHeight * g.outputWidth * C
        let lastLanes = C - (vectors - 1) * lanes
        let spareLanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) .>= Int32(lastLanes), noSpareLanes = SIMDMask<SIMD8<Int32>>()
        // A few KiB, called once per image: a temporary allocation (on the stack when small), not
        // the shared scratch pool, whose lock two threads would contend for 64 times a step.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * g.outputWidth * vectors * lanes) { buffer in
            let state = buffer.baseAddress!
            let (maximum, pending) = (state, state + g.outputWidth * vectors * lanes)
            for h in 0..<g.outputHeight {
                for w in 0..<g.outputWidth {
                    for v in 0..<vectors {
                        let from = (h * g.outputWidth + w) * C + v * lanes, slot = (w * vectors + v) * lanes
                        let count = v == vectors - 1 ? lastLanes : lanes, whole = from + lanes <= outputSize
                        let spare = v == vectors - 1 ? spareLanes : noSpareLanes
                        store(load(maxima + from, lanes: count, whole: whole).replacing(with: .nan, where: spare), to: maximum + slot)
                        store(load(dOutput + from, lanes: count, whole: whole), to: pending + slot)
                    }
                }
                let rows = s.bounds(h: h, w: 0)
                for y in rows.y0..<rows.y1 {
                    for w in 0..<g.outputWidth {
                        let b = s.bounds(h: h, w: w)
                        for x in b.x0..<b.x1 {
                            for v in 0..<vectors {
                                let pixel = (y * g.inputWidth + x) * C + v * lanes, slot = (w * vectors + v) * lanes
                                let count = v == vectors - 1 ? lastLanes : lanes, whole = pixel + lanes <= imageSize
                                let routing = pending + slot
                                let routed = Vector(repeating: 0).replacing(
                                    with: load(routing), where: load(image + pixel, lanes: count, whole: whole) .== load(maximum + slot))
                                store(routed, to: dImage + pixel, lanes: count, whole: whole)
                                store(load(routing) - routed, to: routing)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The first `lanes` floats at `pointer` (the rest zero), or all 8 when `whole` says they may be read.
    @inline(__always) private static func load(_ pointer: UnsafePointer<Float>, lanes: Int, whole: Bool) -> SIMD8<Float> {
        if whole { return load(pointer) }
        var vector = SIMD8<Float>(repeating: 0)
        for lane in 0..<lanes { vector[lane] = pointer[lane] }
        return vector
    }

    /// Writes the first `lanes` floats of `vector`, or all 8 when `whole` says they may be written.
    @inline(__always) private static func store(_ vector: SIMD8<Float>, to pointer: UnsafeMutablePointer<Float>, lanes: Int,
                                                whole: Bool) {
        if whole { return store(vector, to: pointer) }
        for lane in 0..<lanes { pointer[lane] = vector[lane] }
    }

    @inline(__always) private static func load(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) private static func store(_ vector: SIMD8<Float>, to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: vector, as: SIMD8<Float>.self)
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
