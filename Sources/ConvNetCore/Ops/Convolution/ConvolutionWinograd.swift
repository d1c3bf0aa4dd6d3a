/// 3x3 convolution with stride 1 by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray,
/// "Fast Algorithms for Convolutional Neural Networks", 2016). Each 2x2 block of output pixels of
/// one filter comes from the 4x4 block of input under it:
///
///     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A        Bᵀ = | 1  0 -1  0 |   G = |  1    0    0  |   Aᵀ = | 1  1  1  0 |
///                                                    | 0  1  1  0 |       | 1/2  1/2  1/2 |        | 0  1 -1 -1 |
///                                                    | 0 -1  1  0 |       | 1/2 -1/2  1/2 |
///                                                    | 0  1  0 -1 |       |  0    0    1  |
///
/// 16 multiplications per block and channel pair instead of 36. Summed over the input channels,
/// the element-wise product becomes 16 independent GEMMs, one per position ξ of the 4x4 block:
///
///     M_ξ (tiles × n_C) = V_ξ (tiles × n_C_prev) · U_ξ (n_C_prev × n_C),   V = Bᵀ d B,  U = G g Gᵀ
///
/// As in `ConvolutionFast`, each thread takes a run of images and works through them in groups
/// whose `V` and `M` fit `bufferElements`. The transforms go eight channels at a time (SIMD), so
/// the channel counts must be multiples of 8 (`applies(to:)`); only the forward pass uses this
/// (the backward pass stays im2col + GEMM).
enum ConvolutionWinograd {
    private typealias Vector = SIMD8<Float>

    /// Size of each thread's `V` and `M` buffers together, in floats (4 MiB).
    static let bufferElements = 1 << 20

    /// 3x3 kernels, stride 1, no dilation, and channel counts that are multiples of 8.
    static func applies(to s: ConvolutionShape) -> Bool {
        let g = s.window
        return g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideHeight == 1 && g.strideWidth == 1
            && g.dilationHeight == 1 && g.dilationWidth == 1
            && s.inputChannels % Vector.scalarCount == 0 && s.outputChannels % Vector.scalarCount == 0
    }

    /// The convolution's output, with `bias` added and, when `relu`, `max(0, ·)` applied.
    static func forward(input: [Float], kernel: [Float], bias: [Float], shape s: ConvolutionShape, relu: Bool) -> [Float] {
        let (cIn, cOut) = (s.inputChannels, s.outputChannels)
        let tilesPerImage = tiles(s).rows * tiles(s).columns
        let groupSize = max(1, bufferElements / (16 * tilesPerImage * (cIn + cOut)))
        let tasks = Parallel.chunks(s.batch, costPerItem: s.outputPixels * s.patchLength * cOut)
        let transformedKernel = transformKernel(kernel, shape: s)
        return [Float](unsafeUninitializedCapacity: s.batch * s.outputPixels * cOut) { output, initialized in
            let z = SendableMutablePointer(output.baseAddress!)
            withSendablePointers([input, transformedKernel, bias]) { p in
                Parallel.run(tasks: tasks.count) { task in
                    let images = tasks[task]
                    let capacity = min(groupSize, images.count) * tilesPerImage
                    ScratchBuffers.withBuffer(count: 16 * capacity * (cIn + cOut)) { buffer in
                        let (v, m) = (buffer, buffer + 16 * capacity * cIn)
                        for first in stride(from: images.lowerBound, to: images.upperBound, by: groupSize) {
                            let group = first..<min(first + groupSize, images.upperBound), count = group.count * tilesPerImage
                            transformInput(p[0].pointer, images: group, into: v, shape: s)
                            for position in 0..<16 {
                                GEMM.multiply(m: count, n: cOut, k: cIn, a: v + position * count * cIn, lda: cIn,
                                              b: p[1].pointer + position * cIn * cOut, ldb: cOut,
                                              c: m + position * count * cOut, ldc: cOut, threaded: tasks.count == 1)
                            }
                            transformOutput(m, images: group, bias: p[2].pointer, relu: relu, into: z.pointer, shape: s)
                        }
                    }
                }
            }
            initialized = output.count
        }
    }

    /// Output tiles (2x2 blocks) down and across one image.
    private static func tiles(_ s: ConvolutionShape) -> (rows: Int, columns: Int) {
        ((s.window.outputHeight + 1) / 2, (s.window.outputWidth + 1) / 2)
    }

    /// `U = G g Gᵀ` for every (input channel, filter) pair of the `(3, 3, n_C_prev, n_C)` kernel,
    /// stored as 16 matrices `U_ξ (n_C_prev × n_C)`.
    private static func transformKernel(_ kernel: [Float], shape s: ConvolutionShape) -> [Float] {
        let (cIn, cOut) = (s.inputChannels, s.outputChannels)
        return [Float](unsafeUninitializedCapacity: 16 * cIn * cOut) { u, initialized in
            let target = SendableMutablePointer(u.baseAddress!)
            withSendablePointers([kernel]) { p in
                Parallel.forEachChunk(cIn, costPerItem: 50 * cOut) { channels in
                    withUnsafeTemporaryAllocation(of: Vector.self, capacity: 16) { block in
                        for k in channels {
                            for c in stride(from: 0, to: cOut, by: Vector.scalarCount) {
                                for n in 0..<9 { block[n] = load(p[0].pointer + (n * cIn + k) * cOut + c) }
                                kernelTransform(block.baseAddress!)
                                for n in 0..<16 { store(block[n], to: target.pointer + (n * cIn + k) * cOut + c) }
                            }
                        }
                    }
                }
            }
            initialized = 16 * cIn * cOut
        }
    }

    /// `V = Bᵀ d B` for every tile of `images` and every input channel, into the 16 matrices
    /// `V_ξ (tiles × n_C_prev)`; input outside the image (padding) reads as zero.
    private static func transformInput(_ input: UnsafePointer<Float>, images: Range<Int>, into v: UnsafeMutablePointer<Float>,
                                       shape s: ConvolutionShape) {
        let g = s.window, cIn = s.inputChannels, (tileRows, tileColumns) = tiles(s)
        let count = images.count * tileRows * tileColumns
        withUnsafeTemporaryAllocation(of: Vector.self, capacity: 16) { block in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 16) { offsets in
                var tile = 0
                for image in images {
                    for th in 0..<tileRows {
                        for tw in 0..<tileColumns {
                            // Where the tile's 16 input pixels start, −1 where they fall in the padding.
                            for n in 0..<16 {
                                let y = 2 * th - g.padTop + n / 4, x = 2 * tw - g.padLeft + n % 4
                                let inside = y >= 0 && y < g.inputHeight && x >= 0 && x < g.inputWidth
                                offsets[n] = inside ? ((image * g.inputHeight + y) * g.inputWidth + x) * cIn : -1
                            }
                            for k in stride(from: 0, to: cIn, by: Vector.scalarCount) {
                                for n in 0..<16 { block[n] = offsets[n] < 0 ? Vector(repeating: 0) : load(input + offsets[n] + k) }
                                inputTransform(block.baseAddress!)
                                for n in 0..<16 { store(block[n], to: v + (n * count + tile) * cIn + k) }
                            }
                            tile += 1
                        }
                    }
                }
            }
        }
    }

    /// `Y = Aᵀ M A` for every tile of `images` and filter, plus the bias (and ReLU), written to the
    /// NHWC output; the parts of edge tiles beyond an odd-sized output are dropped.
    private static func transformOutput(_ m: UnsafePointer<Float>, images: Range<Int>, bias: UnsafePointer<Float>, relu: Bool,
                                        into output: UnsafeMutablePointer<Float>, shape s: ConvolutionShape) {
        let g = s.window, cOut = s.outputChannels, (tileRows, tileColumns) = tiles(s)
        let count = images.count * tileRows * tileColumns
        withUnsafeTemporaryAllocation(of: Vector.self, capacity: 16) { block in
            var tile = 0
            for image in images {
                for th in 0..<tileRows {
                    for tw in 0..<tileColumns {
                        for c in stride(from: 0, to: cOut, by: Vector.scalarCount) {
                            for n in 0..<16 { block[n] = load(m + (n * count + tile) * cOut + c) }
                            outputTransform(block.baseAddress!)
                            let b = load(bias + c)
                            for n in 0..<4 {
                                let (y, x) = (2 * th + n / 2, 2 * tw + n % 2)
                                guard y < g.outputHeight, x < g.outputWidth else { continue }
                                var value = block[n] + b
                                if relu { value.replace(with: 0, where: value .< 0) }
                                store(value, to: output + ((image * g.outputHeight + y) * g.outputWidth + x) * cOut + c)
                            }
                        }
                        tile += 1
                    }
                }
            }
        }
    }

    /// `x ← Bᵀ x B` for the 4x4 block `x` (row-major).
    @inline(__always) private static func inputTransform(_ x: UnsafeMutablePointer<Vector>) {
        for j in 0..<4 {
            let (a, b, c, d) = (x[j], x[4 + j], x[8 + j], x[12 + j])
            (x[j], x[4 + j], x[8 + j], x[12 + j]) = (a - c, b + c, c - b, b - d)
        }
        for i in stride(from: 0, to: 16, by: 4) {
            let (a, b, c, d) = (x[i], x[i + 1], x[i + 2], x[i + 3])
            (x[i], x[i + 1], x[i + 2], x[i + 3]) = (a - c, b + c, c - b, b - d)
        }
    }

    /// `x ← G g Gᵀ` for the 3x3 block `g` in `x[0..<9]` (row-major), giving a 4x4 block in `x[0..<16]`.
    @inline(__always) private static func kernelTransform(_ x: UnsafeMutablePointer<Vector>) {
        // G g (4 × 3) into rows 0...3 at stride 3, written from the last row so no input is overwritten early.
        for j in 0..<3 {
            let (a, b, c) = (x[j], x[3 + j], x[6 + j])
            (x[j], x[3 + j], x[6 + j], x[9 + j]) = (a, (a + b + c) * 0.5, (a - b + c) * 0.5, c)
        }
        // (G g) Gᵀ (4 × 4), row by row from the last, each row widening from 3 to 4 elements.
        for r in (0..<4).reversed() {
            let (a, b, c) = (x[3 * r], x[3 * r + 1], x[3 * r + 2])
            (x[4 * r], x[4 * r + 1], x[4 * r + 2], x[4 * r + 3]) = (a, (a + b + c) * 0.5, (a - b + c) * 0.5, c)
        }
    }

    /// `x ← Aᵀ x A` for the 4x4 block `x` (row-major), giving a 2x2 block in `x[0..<4]`.
    @inline(__always) private static func outputTransform(_ x: UnsafeMutablePointer<Vector>) {
        for j in 0..<4 {
            let (a, b, c, d) = (x[j], x[4 + j], x[8 + j], x[12 + j])
            (x[j], x[4 + j]) = (a + b + c, b - c - d)
        }
        for r in 0..<2 {
            let (a, b, c, d) = (x[4 * r], x[4 * r + 1], x[4 * r + 2], x[4 * r + 3])
            (x[2 * r], x[2 * r + 1]) = (a + b + c, b - c - d)
        }
    }

    @inline(__always) private static func load(_ pointer: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }

    @inline(__always) private static func store(_ vector: Vector, to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: vector, as: Vector.self)
    }
}
