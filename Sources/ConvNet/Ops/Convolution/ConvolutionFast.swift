/// Convolution as matrix multiplication (im2col + GEMM).
///
/// In NHWC, the receptive field of output pixel `(h, w)` is `f_h · f_w` runs of `n_C_prev`
/// contiguous floats. Copying each field into one row gives
/// the im2col matrix `cols` of shape `(n_H · n_W, f_h · f_w · n_C_prev)`, whose column order matches
/// the kernel `(f_h, f_w, n_C_prev, n_C)` read as a `(f_h · f_w · n_C_prev, n_C)` matrix. Then
///
///     forward:  Z  = cols · W + b            (rows = output pixels, already NHWC)
///     backward: dW = colsᵀ · dZ,  db = Σ_rows dZ,  dcols = dZ · Wᵀ, then col2im adds dcols back
///               into dA_prev (the adjoint of the copy).
///
/// Images are processed in chunks so the `cols` buffer stays near `maxColumnBufferElements`.
/// A 1x1 convolution with stride 1 and no padding skips the copy: the input already is `cols`.
public enum ConvolutionFast {
    /// Upper bound on the im2col buffer, in floats (32 MiB), unless one image alone needs more.
    static let maxColumnBufferElements = 8 << 20

    public static func forward(input: [Float], kernel: [Float], bias: [Float]?, shape s: ConvolutionShape) -> [Float] {
        let pixels = s.outputPixels, K = s.patchLength, cOut = s.outputChannels
        var output = [Float](repeating: 0, count: s.batch * pixels * cOut)
        let pointwise = isPointwise(s)
        let chunk = imagesPerChunk(s)
        var cols = [Float](repeating: 0, count: pointwise ? 0 : chunk * pixels * K)
        input.withUnsafeBufferPointer { a in
            kernel.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { z in
                    cols.withUnsafeMutableBufferPointer { colsBuffer in
                        let zBase = z.baseAddress!
                        if let bias {
                            // Start from the bias and let GEMM accumulate onto it (β = 1).
                            for row in 0..<(s.batch * pixels) {
                                (zBase + row * cOut).update(from: bias, count: cOut)
                            }
                        }
                        for first in stride(from: 0, to: s.batch, by: chunk) {
                            let images = first..<min(first + chunk, s.batch)
                            let rows = images.count * pixels
                            let source: UnsafePointer<Float>
                            if pointwise {
                                source = a.baseAddress! + first * pixels * K
                            } else {
                                im2col(a.baseAddress!, images: images, shape: s, into: colsBuffer.baseAddress!)
                                source = UnsafePointer(colsBuffer.baseAddress!)
                            }
                            GEMM.multiply(m: rows, n: cOut, k: K, a: source, lda: K, b: w.baseAddress!, ldb: cOut,
                                          beta: bias == nil ? 0 : 1, c: zBase + first * pixels * cOut, ldc: cOut)
                        }
                    }
                }
            }
        }
        return output
    }

    /// Gradients of the input (when `needInput`), the kernel and the bias.
    public static func backward(input: [Float], kernel: [Float], upstream: [Float], shape s: ConvolutionShape,
                                needInput: Bool = true) -> (input: [Float]?, kernel: [Float], bias: [Float]) {
        let pixels = s.outputPixels, K = s.patchLength, cOut = s.outputChannels
        var dKernel = [Float](repeating: 0, count: kernel.count)
        var dBias = [Float](repeating: 0, count: cOut)
        var dInput = [Float](repeating: 0, count: needInput ? input.count : 0)
        let pointwise = isPointwise(s)
        let chunk = imagesPerChunk(s)
        var cols = [Float](repeating: 0, count: pointwise ? 0 : chunk * pixels * K)
        var dCols = [Float](repeating: 0, count: pointwise || !needInput ? 0 : chunk * pixels * K)

        upstream.withUnsafeBufferPointer { dZ in
            for row in 0..<(s.batch * pixels) {
                for c in 0..<cOut { dBias[c] += dZ[row * cOut + c] }
            }
        }
        input.withUnsafeBufferPointer { a in
            kernel.withUnsafeBufferPointer { w in
                upstream.withUnsafeBufferPointer { dZ in
                    dKernel.withUnsafeMutableBufferPointer { dW in
                        dInput.withUnsafeMutableBufferPointer { dA in
                            cols.withUnsafeMutableBufferPointer { colsBuffer in
                                dCols.withUnsafeMutableBufferPointer { dColsBuffer in
                                    for first in stride(from: 0, to: s.batch, by: chunk) {
                                        let images = first..<min(first + chunk, s.batch)
                                        let rows = images.count * pixels
                                        let dZChunk = dZ.baseAddress! + first * pixels * cOut
                                        let patches: UnsafePointer<Float>
                                        if pointwise {
                                            patches = a.baseAddress! + first * pixels * K
                                        } else {
                                            im2col(a.baseAddress!, images: images, shape: s, into: colsBuffer.baseAddress!)
                                            patches = UnsafePointer(colsBuffer.baseAddress!)
                                        }
                                        // dW (K × n_C) += colsᵀ · dZ
                                        GEMM.multiply(transposeA: true, m: K, n: cOut, k: rows, a: patches, lda: K,
                                                      b: dZChunk, ldb: cOut, beta: first == 0 ? 0 : 1,
                                                      c: dW.baseAddress!, ldc: cOut)
                                        guard needInput else { continue }
                                        // dcols (rows × K) = dZ · Wᵀ
                                        let target = pointwise ? dA.baseAddress! + first * pixels * K : dColsBuffer.baseAddress!
                                        GEMM.multiply(transposeB: true, m: rows, n: K, k: cOut, a: dZChunk, lda: cOut,
                                                      b: w.baseAddress!, ldb: cOut, c: target, ldc: K)
                                        if !pointwise {
                                            col2im(dColsBuffer.baseAddress!, images: images, shape: s, into: dA.baseAddress!)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (needInput ? dInput : nil, dKernel, dBias)
    }

    static func isPointwise(_ s: ConvolutionShape) -> Bool {
        let g = s.window
        return g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideHeight == 1 && g.strideWidth == 1
            && g.padTop == 0 && g.padBottom == 0 && g.padLeft == 0 && g.padRight == 0
    }

    static func imagesPerChunk(_ s: ConvolutionShape) -> Int {
        max(1, min(s.batch, maxColumnBufferElements / max(1, s.outputPixels * s.patchLength)))
    }

    /// Copies each receptive field of `images` into one row of `cols`; padding becomes zeros.
    static func im2col(_ input: UnsafePointer<Float>, images: Range<Int>, shape s: ConvolutionShape,
                       into cols: UnsafeMutablePointer<Float>) {
        let g = s.window, cIn = s.inputChannels, K = s.patchLength, pixels = s.outputPixels
        let rowCount = images.count * pixels
        let source = SendablePointer(input), target = SendableMutablePointer(cols)
        Parallel.forEachChunk(rowCount, costPerItem: K) { rows in
            for row in rows {
                let image = images.lowerBound + row / pixels
                let h = (row % pixels) / g.outputWidth, w = row % g.outputWidth
                var destination = target.pointer + row * K
                for i in 0..<g.kernelHeight {
                    let y = g.inputRow(h, i)
                    for j in 0..<g.kernelWidth {
                        let x = g.inputColumn(w, j)
                        if y >= 0, y < g.inputHeight, x >= 0, x < g.inputWidth {
                            destination.update(from: source.pointer + ((image * g.inputHeight + y) * g.inputWidth + x) * cIn,
                                               count: cIn)
                        } else {
                            destination.update(repeating: 0, count: cIn)
                        }
                        destination += cIn
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: adds each row of `cols` back onto the input positions it was copied
    /// from. Parallel over images, whose input regions are disjoint.
    static func col2im(_ cols: UnsafePointer<Float>, images: Range<Int>, shape s: ConvolutionShape,
                       into input: UnsafeMutablePointer<Float>) {
        let g = s.window, cIn = s.inputChannels, K = s.patchLength, pixels = s.outputPixels
        let source = SendablePointer(cols), target = SendableMutablePointer(input)
        Parallel.forEachChunk(images.count, costPerItem: pixels * K) { chunk in
            for local in chunk {
                let image = images.lowerBound + local
                for p in 0..<pixels {
                    let h = p / g.outputWidth, w = p % g.outputWidth
                    var field = source.pointer + (local * pixels + p) * K
                    for i in 0..<g.kernelHeight {
                        let y = g.inputRow(h, i)
                        for j in 0..<g.kernelWidth {
                            let x = g.inputColumn(w, j)
                            if y >= 0, y < g.inputHeight, x >= 0, x < g.inputWidth {
                                let destination = target.pointer + ((image * g.inputHeight + y) * g.inputWidth + x) * cIn
                                for k in 0..<cIn { destination[k] += field[k] }
                            }
                            field += cIn
                        }
                    }
                }
            }
        }
    }
}
