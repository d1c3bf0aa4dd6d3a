/// Convolution as matrix multiplication (im2col + GEMM).
///
/// In NHWC, the receptive field of output pixel `(h, w)` is `f_h` runs of `f_w · n_C_prev`
/// contiguous floats (one per kernel row, when the dilation is 1). Copying each field into one row
/// gives the im2col matrix `cols` of shape `(n_H · n_W, f_h · f_w · n_C_prev)`, whose column order
/// matches the kernel `(f_h, f_w, n_C_prev, n_C)` read as a `(f_h · f_w · n_C_prev, n_C)` matrix. Then
///
///     forward:  Z  = cols · W + b            (rows = output pixels, already NHWC)
///     backward: dW = colsᵀ · dZ,  db = Σ_rows dZ,  dcols = dZ · Wᵀ, then col2im adds dcols back
///               into dA_prev (the adjoint of the copy).
///
/// The batch is split into one contiguous run of images per thread (`Parallel.chunks`). Each thread
/// works through its images in groups whose `cols` fit `columnBufferElements`, calling
/// single-threaded GEMM on them while they are still in cache; the backward pass sums each thread's
/// `dW` and `db` separately and adds the partial sums in thread order, so results depend on the
/// thread count but never on timing. A lone task (one image, or one thread) uses threaded GEMM.
///
/// Two special cases change the layout (`PatchLayout`): a 1x1 convolution with stride 1 and no
/// padding skips the copy (the input already is `cols`), and a single-channel input builds `colsᵀ`
/// instead, one row per kernel tap, which GEMM multiplies faster when `n_C` is small. And a 3x3
/// stride-1 convolution with many channels goes to `ConvolutionWinograd`, forward and backward, and
/// the forward pass of a small layer (few filters, few weights) to `ConvolutionDirect`.
public enum ConvolutionFast: ConvolutionKernels {
    /// Size of each thread's im2col buffer, in floats (4 MiB): enough rows to amortise GEMM's
    /// packing of the kernel matrix, few enough to stay in the L3 cache until GEMM reads them.
    static let columnBufferElements = 1 << 20
    /// The same for `colsᵀ` (512 KiB): its GEMMs are short, and fastest when `colsᵀ` stays in L2.
    static let tapMajorBufferElements = 1 << 17
    /// A training step keeps a layer's patches from the forward pass for the backward pass when
    /// the whole batch's take at most this many floats (16 MiB), instead of building them twice.
    static let maximumKeptPatches = 1 << 22

    /// How `forEachGroup` presents a group's receptive fields to GEMM.
    enum PatchLayout {
        /// `cols`, `(rows × K)`: one row per output pixel (im2col; or the input itself when pointwise).
        case pixelMajor
        /// `colsᵀ`, `(K × rows)`: one row per kernel tap, for single-channel inputs. Each row is
        /// built from runs of output-row length, and with the pixels as GEMM's long dimension a
        /// layer with few filters (LeNet's 6) multiplies at full vector width.
        case tapMajor
    }

    static func layout(_ s: ConvolutionShape) -> PatchLayout {
        s.inputChannels == 1 && !isPointwise(s) ? .tapMajor : .pixelMajor
    }

    /// Where `forEachGroup` gets each group's patches: built into a scratch buffer, built into (or
    /// read from) one buffer for the whole batch, each group at its first image's offset.
    enum PatchSource {
        case build
        case buildAndKeep(UnsafeMutablePointer<Float>)
        case kept(UnsafePointer<Float>)
    }

    /// Whether a recorded forward pass should keep the patches for the backward pass.
    static func keepsPatches(_ s: ConvolutionShape) -> Bool {
        !isPointwise(s) && !ConvolutionWinograd.applies(to: s) && s.batch * s.outputPixels * s.patchLength <= maximumKeptPatches
    }

    /// The images of each thread's task; forward and backward split alike, so kept patches line up.
    /// A kernel matrix larger than the im2col buffer (few output pixels, many weights: the last
    /// layers of a deep net) makes one task whose GEMMs split the filters over the threads
    /// instead: every GEMM call packs its share of `W` again, and per-thread image groups would
    /// pack the whole of it once per thread and group.
    static func tasks(_ s: ConvolutionShape) -> [Range<Int>] {
        if kernelElements(s) > columnBufferElements { return [0..<s.batch] }
        return Parallel.chunks(s.batch, costPerItem: s.outputPixels * s.patchLength * s.outputChannels)
    }

    /// `K · n_C`, the size of the kernel matrix GEMM packs on every call.
    static func kernelElements(_ s: ConvolutionShape) -> Int { s.patchLength * s.outputChannels }

    /// The convolution's output; with `relu`, `max(0, Z)` (applied while each group is in cache).
    public static func forward(input: [Float], kernel: [Float], bias: [Float]?, shape s: ConvolutionShape,
                               relu: Bool = false) -> [Float] {
        forward(input: input, kernel: kernel, bias: bias, shape: s, relu: relu, recording: false).output
    }

    /// `forward`, also returning the patches when `recording` and the layer is small enough that
    /// keeping them beats rebuilding them in `backward(patches:)` (`keepsPatches`).
    static func forward(input: [Float], kernel: [Float], bias: [Float]?, shape s: ConvolutionShape, relu: Bool,
                        recording: Bool) -> (output: [Float], patches: [Float]?) {
        let keepingPatches = recording && keepsPatches(s)
        let pixels = s.outputPixels, cOut = s.outputChannels
        let bias = bias ?? [Float](repeating: 0, count: cOut)
        if ConvolutionWinograd.applies(to: s) {
            return (ConvolutionWinograd.forward(input: input, kernel: kernel, bias: bias, shape: s, relu: relu), nil)
        }
        // Small layers: the direct loop writes no patches; a backward pass builds them itself.
        if let loop = ConvolutionDirect.loop(for: s) {
            return (ConvolutionDirect.forward(input: input, kernel: kernel, bias: bias, shape: s, relu: relu, loop: loop), nil)
        }
        let tasks = tasks(s)
        /// The output, computed with the patches also written to `kept` when given.
        func output(keepingPatchesIn kept: SendableMutablePointer<Float>?) -> [Float] {
            [Float](unsafeUninitializedCapacity: s.batch * pixels * cOut) { output, initialized in
                let z = SendableMutablePointer(output.baseAddress!)
                withSendablePointers([input, kernel, bias]) { p in
                    Parallel.run(tasks: tasks.count) { task in
                        let source = kept.map { PatchSource.buildAndKeep($0.pointer) } ?? .build
                        forEachGroup(of: tasks[task], shape: s, input: p[0].pointer, source: source) { images, patches in
                            let rows = images.count * pixels, zRows = z.pointer + images.lowerBound * pixels * cOut
                            multiply(patches, rows: rows, kernel: p[1].pointer, bias: p[2].pointer, into: zRows, shape: s,
                                     threaded: tasks.count == 1)
                            if relu { VectorKernels.relu(zRows, into: zRows, count: rows * cOut) }
                        }
                    }
                }
                initialized = output.count
            }
        }
        guard keepingPatches else { return (output(keepingPatchesIn: nil), nil) }
        // (No zero-capacity array when the patches are not kept: `Array(unsafeUninitializedCapacity: 0)`
        // writes its count into the runtime's shared empty-array storage, which ThreadSanitizer
        // reports as a race when two threads do it.)
        var result: [Float] = []
        let patches = [Float](unsafeUninitializedCapacity: s.batch * pixels * s.patchLength) { kept, keptCount in
            result = output(keepingPatchesIn: SendableMutablePointer(kept.baseAddress!))
            keptCount = kept.count
        }
        return (result, patches)
    }

    /// `Z = cols · W + b` for one group of `rows` output pixels, written to `z` in NHWC order.
    private static func multiply(_ patches: UnsafePointer<Float>, rows: Int, kernel w: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>, into z: UnsafeMutablePointer<Float>, shape s: ConvolutionShape,
                                 threaded: Bool) {
        let K = s.patchLength, cOut = s.outputChannels
        let pixelMajor = layout(s) == .pixelMajor
        if pixelMajor || cOut >= minimumDirectFilters {
            // Start from the bias and let GEMM accumulate onto it (β = 1).
            for row in 0..<rows {
                for c in 0..<cOut { z[row * cOut + c] = bias[c] }
            }
            GEMM.multiply(transposeA: !pixelMajor, m: rows, n: cOut, k: K, a: patches, lda: pixelMajor ? K : rows,
                          b: w, ldb: cOut, beta: 1, c: z, ldc: cOut, threaded: threaded)
        } else {
            // Few filters: Zᵀ (n_C × rows) = Wᵀ · colsᵀ, then transposed into NHWC with the bias.
            ScratchBuffers.withBuffer(count: cOut * rows) { zT in
                GEMM.multiply(transposeA: true, m: cOut, n: rows, k: K, a: w, lda: cOut, b: patches, ldb: rows,
                              c: zT, ldc: rows, threaded: threaded)
                for row in 0..<rows {
                    for c in 0..<cOut { z[row * cOut + c] = zT[c * rows + row] + bias[c] }
                }
            }
        }
    }

    /// From this many filters on, GEMM writes `Z` in NHWC directly from `colsᵀ` (`Z = (colsᵀ)ᵀ · W`);
    /// with fewer (LeNet's 6), it runs several times faster producing `Zᵀ`, which is then transposed.
    static let minimumDirectFilters = 16

    /// Gradients of the input (when `needInput`), the kernel (when `needKernel`, else empty) and
    /// the bias. `reluOutput` is the output of a forward pass with `relu`, whose mask then applies
    /// to `upstream` first; `patches` are the ones that forward pass kept, if it did. Without the
    /// kernel gradient no patches are built (a frozen kernel: the bias gradient and the input
    /// gradient need none); Winograd layers compute it all the same.
    public static func backward(input: [Float], kernel: [Float], upstream: [Float], shape s: ConvolutionShape,
                                needInput: Bool = true, needKernel: Bool = true, reluOutput: [Float]? = nil,
                                patches: [Float]? = nil)
        -> (input: [Float]?, kernel: [Float], bias: [Float]) {
        if ConvolutionWinograd.applies(to: s) {
            let gradients = ConvolutionWinograd.backward(input: input, kernel: kernel, upstream: upstream, shape: s,
                                                         needInput: needInput, reluOutput: reluOutput)
            return (gradients.input, needKernel ? gradients.kernel : [], gradients.bias)
        }
        let K = s.patchLength, cOut = s.outputChannels
        let tasks = tasks(s)
        let partialLength = K * cOut + cOut  // each task's kernel gradient (K × n_C), then its bias gradient
        var dInput = [Float](repeating: 0, count: needInput ? input.count : 0)
        let sums = ScratchBuffers.withBuffer(count: tasks.count * partialLength) { partials in
            withSendablePointers([input, kernel, upstream, reluOutput ?? upstream, patches ?? upstream]) { p in
                dInput.withUnsafeMutableBufferPointer { dA in
                    let dA = needInput ? SendableMutablePointer(dA.baseAddress!) : nil
                    let (partials, masked, kept) = (SendableMutablePointer(partials), reluOutput != nil, patches != nil)
                    Parallel.run(tasks: tasks.count) { task in
                        backward(images: tasks[task], input: p[0].pointer, kernel: p[1].pointer, upstream: p[2].pointer,
                                 reluOutput: masked ? p[3].pointer : nil, source: kept ? .kept(p[4].pointer) : .build,
                                 into: needKernel ? partials.pointer + task * partialLength : nil,
                                 biasGradient: partials.pointer + task * partialLength + K * cOut,
                                 inputGradient: dA?.pointer, shape: s, threaded: tasks.count == 1)
                    }
                }
            }
            // The tasks' partial sums, added in task order (only the bias's without the kernel's).
            let summed = needKernel ? 0..<partialLength : K * cOut..<partialLength
            return [Float](unsafeUninitializedCapacity: partialLength) { total, initialized in
                total.initialize(repeating: 0)
                for task in 0..<tasks.count {
                    for e in summed { total[e] += partials[task * partialLength + e] }
                }
                initialized = partialLength
            }
        }
        return (needInput ? dInput : nil, needKernel ? Array(sums[..<(K * cOut)]) : [], Array(sums[(K * cOut)...]))
    }

    /// One task's share of `backward`: the gradients from `images`, group by group. The kernel
    /// gradient goes to `dW` (`K × n_C`; none and no patches built when `dW` is nil), the bias
    /// gradient to `db`, the input gradient to `dA`.
    private static func backward(images: Range<Int>, input a: UnsafePointer<Float>, kernel w: UnsafePointer<Float>,
                                 upstream dZ: UnsafePointer<Float>, reluOutput y: UnsafePointer<Float>?, source: PatchSource,
                                 into dW: UnsafeMutablePointer<Float>?, biasGradient db: UnsafeMutablePointer<Float>,
                                 inputGradient dA: UnsafeMutablePointer<Float>?, shape s: ConvolutionShape, threaded: Bool) {
        let pixels = s.outputPixels, cOut = s.outputChannels
        // A pixel-run layer's kernel and bias gradients come from its own loop, which builds no
        // patches (the bias's always from there, so that it does not depend on which other
        // gradients are wanted); only an input gradient goes through the groups below.
        let direct = ConvolutionDirect.loop(for: s) == .pixelRuns
        if direct {
            ConvolutionDirect.kernelGradient(images: images, input: a, upstream: dZ, reluOutput: y, into: dW, biasGradient: db,
                                             shape: s)
            if dA == nil { return }
        }
        func gradients(_ group: Range<Int>, _ patches: UnsafePointer<Float>?) {
            let offset = group.lowerBound * pixels * cOut, first = group.lowerBound == images.lowerBound
            withMaskedUpstream(dZ + offset, count: group.count * pixels * cOut, reluOutput: y.map { $0 + offset }) { dZ in
                if let dW, let patches {
                    kernelGradient(patches, rows: group.count * pixels, upstream: dZ, into: dW, first: first, shape: s,
                                   threaded: threaded)
                }
                if !direct {
                    biasGradient(rows: group.count * pixels, upstream: dZ, into: db, first: first, shape: s, threaded: threaded)
                }
                if let dA { inputGradient(group, upstream: dZ, kernel: w, into: dA, shape: s, threaded: threaded) }
            }
        }
        guard dW != nil, !direct else {
            // The same groups as with patches, so that the bias gradient sums alike.
            let size = groupSize(images.count, shape: s)
            for first in stride(from: images.lowerBound, to: images.upperBound, by: size) {
                gradients(first..<min(first + size, images.upperBound), nil)
            }
            return
        }
        forEachGroup(of: images, shape: s, input: a, source: source, gradients)
    }

    /// Calls `body` with `dZ`, or with `y > 0 ? dZ : 0` (ReLU's backward pass) when `reluOutput` is given.
    private static func withMaskedUpstream(_ dZ: UnsafePointer<Float>, count: Int, reluOutput y: UnsafePointer<Float>?,
                                           _ body: (UnsafePointer<Float>) -> Void) {
        guard let y else { return body(dZ) }
        ScratchBuffers.withBuffer(count: count) { masked in
            VectorKernels.reluGradient(dZ, output: y, into: masked, count: count)
            body(masked)
        }
    }

    /// For one group of `rows` output pixels: `dW (K × n_C) = colsᵀ · dZ`, overwriting when
    /// `first` and adding otherwise.
    private static func kernelGradient(_ patches: UnsafePointer<Float>, rows: Int, upstream dZ: UnsafePointer<Float>,
                                       into dW: UnsafeMutablePointer<Float>, first: Bool, shape s: ConvolutionShape,
                                       threaded: Bool) {
        let K = s.patchLength, cOut = s.outputChannels, pixelMajor = layout(s) == .pixelMajor
        GEMM.multiply(transposeA: pixelMajor, m: K, n: cOut, k: rows, a: patches, lda: pixelMajor ? K : rows,
                      b: dZ, ldb: cOut, beta: first ? 0 : 1, c: dW, ldc: cOut, threaded: threaded)
    }

    /// For one group of `rows` output pixels: `db (1 × n_C) = 1ᵀ · dZ`, a column sum, which GEMM
    /// vectorises across the (few) columns; overwriting when `first` and adding otherwise.
    private static func biasGradient(rows: Int, upstream dZ: UnsafePointer<Float>, into db: UnsafeMutablePointer<Float>,
                                     first: Bool, shape s: ConvolutionShape, threaded: Bool) {
        let cOut = s.outputChannels
        ScratchBuffers.withBuffer(count: rows) { ones in
            ones.update(repeating: 1, count: rows)
            GEMM.multiply(m: 1, n: cOut, k: rows, a: ones, lda: rows, b: dZ, ldb: cOut, beta: first ? 0 : 1,
                          c: db, ldc: cOut, threaded: threaded)
        }
    }

    /// `dcols (rows × K) = dZ · Wᵀ` for the group `images`, added back onto the input positions
    /// (written directly when pointwise: `dA` is then `dcols`).
    private static func inputGradient(_ images: Range<Int>, upstream dZ: UnsafePointer<Float>, kernel w: UnsafePointer<Float>,
                                      into dA: UnsafeMutablePointer<Float>, shape s: ConvolutionShape, threaded: Bool) {
        let rows = images.count * s.outputPixels, K = s.patchLength, cOut = s.outputChannels
        if isPointwise(s) {
            return GEMM.multiply(transposeB: true, m: rows, n: K, k: cOut, a: dZ, lda: cOut, b: w, ldb: cOut,
                                 c: dA + images.lowerBound * s.outputPixels * K, ldc: K, threaded: threaded)
        }
        ScratchBuffers.withBuffer(count: rows * K) { dCols in
            GEMM.multiply(transposeB: true, m: rows, n: K, k: cOut, a: dZ, lda: cOut, b: w, ldb: cOut, c: dCols, ldc: K,
                          threaded: threaded)
            col2im(dCols, images: images, shape: s, into: dA)
        }
    }

    static func isPointwise(_ s: ConvolutionShape) -> Bool {
        let g = s.window
        return g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideHeight == 1 && g.strideWidth == 1
            && g.padTop == 0 && g.padBottom == 0 && g.padLeft == 0 && g.padRight == 0
    }

    /// Calls `body(group, patches)` for consecutive groups of `images` whose patches fit the layout's
    /// buffer (at least one image per group); `patches` holds the group's `cols` or `colsᵀ` (see
    /// `PatchLayout`), or is the input itself for a pointwise convolution.
    static func forEachGroup(of images: Range<Int>, shape s: ConvolutionShape, input: UnsafePointer<Float>,
                             source: PatchSource = .build, _ body: (Range<Int>, UnsafePointer<Float>) -> Void) {
        let patchesPerImage = s.outputPixels * s.patchLength
        if isPointwise(s) {
            return body(images, input + images.lowerBound * patchesPerImage)
        }
        let tapMajor = layout(s) == .tapMajor
        let groupSize = groupSize(images.count, shape: s)
        ScratchBuffers.withBuffer(count: groupSize * patchesPerImage) { scratch in
            for first in stride(from: images.lowerBound, to: images.upperBound, by: groupSize) {
                let group = first..<min(first + groupSize, images.upperBound)
                let patches: UnsafeMutablePointer<Float>
                switch source {
                case .build: patches = scratch
                case let .buildAndKeep(kept): patches = kept + first * patchesPerImage
                case let .kept(kept):
                    body(group, kept + first * patchesPerImage)
                    continue
                }
                if tapMajor {
                    im2row(input, images: group, shape: s, into: patches)
                } else {
                    im2col(input, images: group, shape: s, into: patches)
                }
                body(group, patches)
            }
        }
    }

    /// Images per group in `forEachGroup` for a run of `count` images: all of them when the
    /// convolution is pointwise (no copy), else as many as the layout's buffer holds (at least one).
    /// Groups get at least twice as many patch floats as the kernel matrix has, so packing `W`
    /// costs at most half as much as packing the patches.
    static func groupSize(_ count: Int, shape s: ConvolutionShape) -> Int {
        if isPointwise(s) { return max(1, count) }
        let budget = layout(s) == .tapMajor ? tapMajorBufferElements : max(columnBufferElements, 2 * kernelElements(s))
        return max(1, min(count, budget / (s.outputPixels * s.patchLength)))
    }

    /// `colsᵀ` of a single-channel input: row `i · f_w + j` (kernel tap `(i, j)`) holds, for every
    /// output pixel of `images` in order, the input value that tap reads; padding becomes zeros.
    static func im2row(_ input: UnsafePointer<Float>, images: Range<Int>, shape s: ConvolutionShape,
                       into rows: UnsafeMutablePointer<Float>) {
        let g = s.window, columns = images.count * s.outputPixels
        for i in 0..<g.kernelHeight {
            for j in 0..<g.kernelWidth {
                let inside = g.outputColumnsInside(tap: j)
                var target = rows + (i * g.kernelWidth + j) * columns
                for image in images {
                    for h in 0..<g.outputHeight {
                        defer { target += g.outputWidth }
                        let y = g.inputRow(h, i)
                        guard y >= 0, y < g.inputHeight else {
                            fill(target, count: g.outputWidth)
                            continue
                        }
                        let source = input + (image * g.inputHeight + y) * g.inputWidth + g.inputColumn(inside.lowerBound, j)
                        fill(target, count: inside.lowerBound)
                        if g.strideWidth == 1 {
                            copy(source, to: target + inside.lowerBound, count: inside.count)
                        } else {
                            for n in 0..<inside.count { target[inside.lowerBound + n] = source[n &* g.strideWidth] }
                        }
                        fill(target + inside.upperBound, count: g.outputWidth - inside.upperBound)
                    }
                }
            }
        }
    }

    /// Copies each receptive field of `images` into one row of `cols`; padding becomes zeros.
    /// A kernel row that lies wholly inside the image (with dilation 1) is one contiguous run of
    /// `f_w · n_C_prev` floats, copied at once; the rest go through `copyClipped`.
    static func im2col(_ input: UnsafePointer<Float>, images: Range<Int>, shape s: ConvolutionShape,
                       into cols: UnsafeMutablePointer<Float>) {
        let g = s.window, cIn = s.inputChannels, rowLength = g.kernelWidth * cIn, rowStride = g.inputWidth * cIn
        var destination = cols
        for image in images {
            let plane = input + image * g.inputHeight * rowStride
            for h in 0..<g.outputHeight {
                for w in 0..<g.outputWidth {
                    let contiguous = g.dilationWidth == 1 && g.kernelColumnsInside(w).count == g.kernelWidth
                    let column = plane + g.inputColumn(w, 0) * cIn  // valid when `contiguous`
                    for i in 0..<g.kernelHeight {
                        let y = g.inputRow(h, i)
                        if contiguous, y >= 0, y < g.inputHeight {
                            copy(column + y * rowStride, to: destination, count: rowLength)
                        } else {
                            copyClipped(plane, row: y, outputColumn: w, to: destination, shape: s)
                        }
                        destination += rowLength
                    }
                }
            }
        }
    }

    /// One kernel row of an im2col row that reaches into the padding (or is dilated): the
    /// positions inside the image are copied, the others set to zero.
    @inline(never)
    private static func copyClipped(_ plane: UnsafePointer<Float>, row y: Int, outputColumn w: Int,
                                    to destination: UnsafeMutablePointer<Float>, shape s: ConvolutionShape) {
        let g = s.window, cIn = s.inputChannels
        fill(destination, count: g.kernelWidth * cIn)
        guard y >= 0, y < g.inputHeight else { return }
        for j in g.kernelColumnsInside(w) {
            copy(plane + (y * g.inputWidth + g.inputColumn(w, j)) * cIn, to: destination + j * cIn, count: cIn)
        }
    }

    /// `count` floats from `source` to `destination`; short runs (a 5x5 kernel row on one channel)
    /// in a loop, because a call to `memmove` costs more than copying them.
    @inline(__always) private static func copy(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>,
                                               count: Int) {
        if count >= 64 {
            destination.update(from: source, count: count)
        } else {
            for e in 0..<count { destination[e] = source[e] }
        }
    }

    /// Sets `count` floats to zero (see `copy`).
    @inline(__always) private static func fill(_ destination: UnsafeMutablePointer<Float>, count: Int) {
        if count >= 64 {
            destination.update(repeating: 0, count: count)
        } else {
            for e in 0..<count { destination[e] = 0 }
        }
    }

    /// The adjoint of `im2col`: adds each row of `cols` back onto the input positions it was copied
    /// from (padding positions are dropped). Same structure as `im2col`.
    static func col2im(_ cols: UnsafePointer<Float>, images: Range<Int>, shape s: ConvolutionShape,
                       into input: UnsafeMutablePointer<Float>) {
        let g = s.window, cIn = s.inputChannels, rowLength = g.kernelWidth * cIn, rowStride = g.inputWidth * cIn
        var field = cols
        for image in images {
            let plane = input + image * g.inputHeight * rowStride
            for h in 0..<g.outputHeight {
                for w in 0..<g.outputWidth {
                    let contiguous = g.dilationWidth == 1 && g.kernelColumnsInside(w).count == g.kernelWidth
                    let column = plane + g.inputColumn(w, 0) * cIn
                    for i in 0..<g.kernelHeight {
                        let y = g.inputRow(h, i)
                        if contiguous, y >= 0, y < g.inputHeight {
                            let target = column + y * rowStride
                            for e in 0..<rowLength { target[e] += field[e] }
                        } else {
                            addClipped(field, to: plane, row: y, outputColumn: w, shape: s)
                        }
                        field += rowLength
                    }
                }
            }
        }
    }

    /// The adjoint of `copyClipped`.
    @inline(never)
    private static func addClipped(_ field: UnsafePointer<Float>, to plane: UnsafeMutablePointer<Float>, row y: Int,
                                   outputColumn w: Int, shape s: ConvolutionShape) {
        let g = s.window, cIn = s.inputChannels
        guard y >= 0, y < g.inputHeight else { return }
        for j in g.kernelColumnsInside(w) {
            let target = plane + (y * g.inputWidth + g.inputColumn(w, j)) * cIn
            for e in 0..<cIn { target[e] += field[j * cIn + e] }
        }
    }
}

extension WindowGeometry {
    /// The output columns `w` whose input column `inputColumn(w, j)` for kernel column `j` lies
    /// inside the image: a contiguous range.
    @inline(__always) func outputColumnsInside(tap j: Int) -> Range<Int> {
        let x0 = inputColumn(0, j)
        let first = x0 >= 0 ? 0 : (-x0 + strideWidth - 1) / strideWidth
        let end = x0 >= inputWidth ? 0 : min(outputWidth, (inputWidth - 1 - x0) / strideWidth + 1)
        return min(first, end)..<end
    }

    /// The kernel columns `j` whose input column `inputColumn(w, j)` lies inside the image, for
    /// output column `w`: a contiguous range (the others fall in the left or right padding).
    @inline(__always) func kernelColumnsInside(_ w: Int) -> Range<Int> {
        let x0 = inputColumn(w, 0)
        let first = x0 >= 0 ? 0 : (-x0 + dilationWidth - 1) / dilationWidth
        let end = x0 >= inputWidth ? 0 : min(kernelWidth, (inputWidth - 1 - x0) / dilationWidth + 1)
        return min(first, end)..<end
    }
}
