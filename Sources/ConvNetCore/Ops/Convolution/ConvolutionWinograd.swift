/// 3x3 and 7x7 convolution with stride 1 by Winograd's minimal filtering (`WinogradTiling`): each tile of
/// `m × m` output pixels of one filter comes from the `α × α` block of input under it. Summed over
/// the input channels, the element-wise product becomes `α²` independent GEMMs, one per position
/// ξ of the block:
///
///     V = Bᵀ d B,  U = G g Gᵀ
///     forward:          M_ξ (tiles × n_C) = V_ξ (tiles × n_C_prev) · U_ξ (n_C_prev × n_C),   Y = Aᵀ M A
///     kernel gradient:  dM = A dY Aᵀ,  dU_ξ (n_C_prev × n_C) = Σ_groups V_ξᵀ · dM_ξ,         dg = Gᵀ dU G
///     input gradient:   dV_ξ (tiles × n_C_prev) = dM_ξ · U_ξᵀ,   dd = B dV Bᵀ, added over the overlapping blocks
///
/// `ConvolutionWinograd.Tile` chooses the tiling (F(4x4, 3x3) for 3x3 kernels, F(2x2, 7x7) for 7x7).
/// As in `ConvolutionFast`, each thread takes a run of images and works through their tiles in
/// groups whose transformed data fit `groupElements` (about L2); the backward pass sums each
/// thread's `dU` separately and adds the partial sums in thread order (deterministic for a given
/// thread count). The transforms go eight channels at a time (SIMD),
/// so the channel counts must be multiples of 8 (`applies(to:)`); F(4x4, 3x3)'s run as C loops
/// (`WinogradTiling.compiled`). The α² products are small (16–512 channels), and go through
/// `GEMM.multiplySmall`, which spares the smaller ones BLAS's packing and clearing.
///
/// Its GEMMs stay float32 in `ComputePrecision.bfloat16`: they are many small products (one per
/// position and group of tiles), for which rounding both operands to bfloat16 and oneDNN's packing
/// on every call cost more than the faster multiply saves (conv4x7 trained at 316–397 images/s
/// against 453–478 in float32, with these GEMMs in bfloat16), and the transforms would magnify
/// bfloat16's rounding error. The layers that go through im2col, and dense layers, use bfloat16.
public enum ConvolutionWinograd {
    /// Which F(m×m, r×r) a Winograd convolution uses.
    public enum Tile: Sendable, CaseIterable {
        /// F(2x2, 3x3) (`WinogradF2x2`): 2.25x fewer multiplications than im2col, the smallest rounding error.
        case f2x2
        /// F(4x4, 3x3) (`WinogradF4x4`): 4x fewer multiplications, about 5x the rounding error
        /// of F(2x2, 3x3) (both within about 1e-5 of the largest output: `WinogradAccuracyTests`).
        case f4x4
        /// F(2x2, 7x7) (`WinogradF2x2For7x7`): 3.1x fewer multiplications than im2col.
        case f2x2For7x7

        /// The side of the kernels the tile convolves with.
        public var kernelSide: Int {
            switch self {
            case .f2x2: WinogradF2x2.kernelSide
            case .f4x4: WinogradF4x4.kernelSide
            case .f2x2For7x7: WinogradF2x2For7x7.kernelSide
            }
        }
    }

    /// The tile `ConvolutionFast` uses for `s` (which `applies(to:)`): F(4x4, 3x3) for 3x3 kernels,
    /// F(2x2, 7x7) for 7x7 ones.
    public static func defaultTile(for s: ConvolutionShape) -> Tile {
        s.window.kernelHeight == 7 ? .f2x2For7x7 : .f4x4
    }

    /// `tile`, or the default tile for `s`, checked against the kernel. The passes then switch over
    /// it to call `Winograd<T>` with a concrete tiling, which the compiler specialises (inlining the
    /// transforms); calling through an `any WinogradTiling.Type` made the 3x3 layers 1.5x slower.
    private static func resolved(_ tile: Tile?, for s: ConvolutionShape) -> Tile {
        let tile = tile ?? defaultTile(for: s)
        precondition(tile.kernelSide == s.window.kernelHeight && tile.kernelSide == s.window.kernelWidth,
                     "Winograd \(tile) is for \(tile.kernelSide)x\(tile.kernelSide) kernels")
        return tile
    }

    /// Transformed data (`V` and `M`, or `V` and `dM`) each thread works on at once, in floats:
    /// 512 KiB, half of a core's L2 cache on the CPUs measured (AMD Zen 4: 1 MiB), so a group's
    /// input transform, its α² GEMMs and its output transform run out of L2 instead of memory.
    /// Against groups of 16 MiB, layers of 16–128 channels ran their forward pass 1.1–1.6x and
    /// their backward pass 1.0–1.7x faster (`convnet bench conv`); 256 channels and more, whose
    /// groups `groupElements` makes larger, the same (`docs/PERFORMANCE.md`, "Winograd in L2-sized groups").
    static let cacheElements = 1 << 17

    /// Floats of transformed data per group: `cacheElements`, or more when the transformed kernel
    /// (`α² · n_C_prev · n_C` floats, which every group reads again) is larger. A group then holds
    /// at least as much data as kernel (twice as much in the backward pass, which also reads and
    /// writes its `dU` sums), so that kernel traffic stays at most about the data's.
    static func groupElements(_ s: ConvolutionShape, positions: Int, backward: Bool) -> Int {
        max(cacheElements, (backward ? 2 : 1) * positions * s.inputChannels * s.outputChannels)
    }

    /// Whether the shape suits Winograd: 3x3 or 7x7 kernels, stride 1, no dilation, and channel
    /// counts that are multiples of 8.
    public static func applies(to s: ConvolutionShape) -> Bool {
        let g = s.window
        return (g.kernelHeight == 3 || g.kernelHeight == 7) && g.kernelWidth == g.kernelHeight
            && g.strideHeight == 1 && g.strideWidth == 1
            && g.dilationHeight == 1 && g.dilationWidth == 1
            && s.inputChannels % WinogradVector.scalarCount == 0 && s.outputChannels % WinogradVector.scalarCount == 0
    }

    /// The convolution's output `(m, n_H, n_W, n_C)`, with `bias` added and, when `relu`,
    /// `max(0, ·)` applied. The shape must satisfy `applies(to:)`.
    public static func forward(input: [Float], kernel: [Float], bias: [Float], shape s: ConvolutionShape, relu: Bool = false,
                               tile: Tile? = nil) -> [Float] {
        switch resolved(tile, for: s) {
        case .f2x2: Winograd<WinogradF2x2>.forward(input: input, kernel: kernel, bias: bias, shape: s, relu: relu)
        case .f4x4: Winograd<WinogradF4x4>.forward(input: input, kernel: kernel, bias: bias, shape: s, relu: relu)
        case .f2x2For7x7: Winograd<WinogradF2x2For7x7>.forward(input: input, kernel: kernel, bias: bias, shape: s, relu: relu)
        }
    }

    /// The convolution's 2x2 max pool (stride 2, valid: `(m, ⌊n_H/2⌋, ⌊n_W/2⌋, n_C)`), with `bias`
    /// added and, when `relu`, `max(0, ·)` applied before pooling, computed without writing the
    /// convolution's output: each 4x4 (or 2x2) output tile holds whole pooling windows, which are
    /// reduced as the tile leaves the output transform. `winners` says which pixel of each window
    /// won, for `backwardMaxPooled`: 0–3 in scan order (the first of equal values, as
    /// `PoolingReference`), 4 when a fused ReLU made the window's maximum zero (no gradient). They
    /// are floats, in the pooled output's layout: Swift's integer SIMD compares and conversions
    /// run lane by lane on x86-64 (the backward transform took 15% of a speedrun step with byte
    /// winners, 6.5% with these), float compares are one instruction each.
    public static func forwardMaxPooled(input: [Float], kernel: [Float], bias: [Float], shape s: ConvolutionShape,
                                        relu: Bool = false, tile: Tile? = nil) -> (output: [Float], winners: [Float]) {
        switch resolved(tile, for: s) {
        case .f2x2: Winograd<WinogradF2x2>.forwardMaxPooled(input: input, kernel: kernel, bias: bias, shape: s, relu: relu)
        case .f4x4: Winograd<WinogradF4x4>.forwardMaxPooled(input: input, kernel: kernel, bias: bias, shape: s, relu: relu)
        case .f2x2For7x7: Winograd<WinogradF2x2For7x7>.forwardMaxPooled(input: input, kernel: kernel, bias: bias, shape: s, relu: relu)
        }
    }

    /// The gradients of `forwardMaxPooled` for the upstream gradient `dP` of the pooled output:
    /// `dY` is `dP` routed to each window's winner and zero elsewhere, built tile by tile inside
    /// the backward transform rather than as a full-size tensor.
    public static func backwardMaxPooled(input: [Float], kernel: [Float], upstream: [Float], winners: [Float],
                                         shape s: ConvolutionShape, needInput: Bool = true, tile: Tile? = nil)
        -> (input: [Float]?, kernel: [Float], bias: [Float]) {
        switch resolved(tile, for: s) {
        case .f2x2:
            Winograd<WinogradF2x2>.backward(input: input, kernel: kernel, upstream: upstream, shape: s, needInput: needInput,
                                            reluOutput: nil, winners: winners)
        case .f4x4:
            Winograd<WinogradF4x4>.backward(input: input, kernel: kernel, upstream: upstream, shape: s, needInput: needInput,
                                            reluOutput: nil, winners: winners)
        case .f2x2For7x7:
            Winograd<WinogradF2x2For7x7>.backward(input: input, kernel: kernel, upstream: upstream, shape: s, needInput: needInput,
                                                  reluOutput: nil, winners: winners)
        }
    }

    /// The gradients with respect to the input (when `needInput`), the `(r, r, n_C_prev, n_C)`
    /// kernel and the bias, for the upstream gradient `dY` (masked by `y > 0` first when
    /// `reluOutput` is the output of a forward pass with ReLU). The shape must satisfy `applies(to:)`.
    public static func backward(input: [Float], kernel: [Float], upstream: [Float], shape s: ConvolutionShape,
                                needInput: Bool = true, reluOutput: [Float]? = nil, tile: Tile? = nil)
        -> (input: [Float]?, kernel: [Float], bias: [Float]) {
        switch resolved(tile, for: s) {
        case .f2x2:
            Winograd<WinogradF2x2>.backward(input: input, kernel: kernel, upstream: upstream, shape: s, needInput: needInput,
                                            reluOutput: reluOutput)
        case .f4x4:
            Winograd<WinogradF4x4>.backward(input: input, kernel: kernel, upstream: upstream, shape: s, needInput: needInput,
                                            reluOutput: reluOutput)
        case .f2x2For7x7:
            Winograd<WinogradF2x2For7x7>.backward(input: input, kernel: kernel, upstream: upstream, shape: s, needInput: needInput,
                                                  reluOutput: reluOutput)
        }
    }

    /// `forward` with F(4x4, 3x3), its transforms run by the loops over the Swift maps
    /// (`WinogradF4x4SwiftMaps`) instead of the C loops: for the tests, which require the same bits.
    @_spi(Testing) public static func forwardThroughSwiftMaps(input: [Float], kernel: [Float], bias: [Float],
                                                              shape s: ConvolutionShape, relu: Bool = false) -> [Float] {
        _ = resolved(.f4x4, for: s)
        return Winograd<WinogradF4x4SwiftMaps>.forward(input: input, kernel: kernel, bias: bias, shape: s, relu: relu)
    }

    /// `forwardMaxPooled` with F(4x4, 3x3) through the Swift maps (see `forwardThroughSwiftMaps`).
    @_spi(Testing) public static func forwardMaxPooledThroughSwiftMaps(input: [Float], kernel: [Float], bias: [Float],
                                                                       shape s: ConvolutionShape, relu: Bool = false)
        -> (output: [Float], winners: [Float]) {
        _ = resolved(.f4x4, for: s)
        return Winograd<WinogradF4x4SwiftMaps>.forwardMaxPooled(input: input, kernel: kernel, bias: bias, shape: s, relu: relu)
    }

    /// `backwardMaxPooled` with F(4x4, 3x3) through the Swift maps (see `forwardThroughSwiftMaps`).
    @_spi(Testing) public static func backwardMaxPooledThroughSwiftMaps(input: [Float], kernel: [Float], upstream: [Float],
                                                                        winners: [Float], shape s: ConvolutionShape)
        -> (input: [Float]?, kernel: [Float], bias: [Float]) {
        _ = resolved(.f4x4, for: s)
        return Winograd<WinogradF4x4SwiftMaps>.backward(input: input, kernel: kernel, upstream: upstream, shape: s,
                                                        needInput: true, reluOutput: nil, winners: winners)
    }

    /// `backward` with F(4x4, 3x3) through the Swift maps (see `forwardThroughSwiftMaps`).
    @_spi(Testing) public static func backwardThroughSwiftMaps(input: [Float], kernel: [Float], upstream: [Float],
                                                               shape s: ConvolutionShape, reluOutput: [Float]? = nil)
        -> (input: [Float]?, kernel: [Float], bias: [Float]) {
        _ = resolved(.f4x4, for: s)
        return Winograd<WinogradF4x4SwiftMaps>.backward(input: input, kernel: kernel, upstream: upstream, shape: s,
                                                        needInput: true, reluOutput: reluOutput)
    }
}

/// The passes of `ConvolutionWinograd` for one tiling `T`.
enum Winograd<T: WinogradTiling> {
    private typealias Vector = WinogradVector
    private static var m: Int { T.outputSide }
    private static var α: Int { T.inputSide }
    private static var r: Int { T.kernelSide }
    // (The scratch blocks below hold 64 positions: α ≤ 8 for every tiling.)

    static func forward(input: [Float], kernel: [Float], bias: [Float], shape s: ConvolutionShape, relu: Bool) -> [Float] {
        [Float](unsafeUninitializedCapacity: s.batch * s.outputPixels * s.outputChannels) { output, initialized in
            forward(input: input, kernel: kernel, bias: bias, shape: s, relu: relu,
                    into: SendableMutablePointer(output.baseAddress!), winners: nil)
            initialized = output.count
        }
    }

    static func forwardMaxPooled(input: [Float], kernel: [Float], bias: [Float], shape s: ConvolutionShape,
                                 relu: Bool) -> (output: [Float], winners: [Float]) {
        let count = s.batch * (s.window.outputHeight / 2) * (s.window.outputWidth / 2) * s.outputChannels
        var pooled: [Float] = []
        let winners = [Float](unsafeUninitializedCapacity: count) { winners, winnersCount in
            pooled = [Float](unsafeUninitializedCapacity: count) { output, initialized in
                forward(input: input, kernel: kernel, bias: bias, shape: s, relu: relu,
                        into: SendableMutablePointer(output.baseAddress!), winners: SendableMutablePointer(winners.baseAddress!))
                initialized = count
            }
            winnersCount = count
        }
        return (pooled, winners)
    }

    /// The forward pass into `output`: the NHWC output, or its 2x2 max pool when `winners` is given.
    private static func forward(input: [Float], kernel: [Float], bias: [Float], shape s: ConvolutionShape, relu: Bool,
                                into output: SendableMutablePointer<Float>, winners: SendableMutablePointer<Float>?) {
        let (cIn, cOut, positions) = (s.inputChannels, s.outputChannels, α * α)
        let tilesPerImage = tiles(s).rows * tiles(s).columns
        let groupSize = max(1, ConvolutionWinograd.groupElements(s, positions: positions, backward: false) / (positions * (cIn + cOut)))
        let tasks = Parallel.chunks(s.batch, costPerItem: s.outputPixels * s.patchLength * cOut)
        let transformedKernel = transformKernel(kernel, shape: s)
        withSendablePointers([input, transformedKernel, bias]) { p in
            Parallel.run(tasks: tasks.count) { task in
                let taskTiles = tasks[task].lowerBound * tilesPerImage..<tasks[task].upperBound * tilesPerImage
                let capacity = min(groupSize, taskTiles.count)
                ScratchBuffers.withBuffer(count: positions * capacity * (cIn + cOut)) { buffer in
                    let (v, mBuffer) = (buffer, buffer + positions * capacity * cIn)
                    for first in stride(from: taskTiles.lowerBound, to: taskTiles.upperBound, by: groupSize) {
                        let group = first..<min(first + groupSize, taskTiles.upperBound), count = group.count
                        transformInput(p[0].pointer, tiles: group, into: v, shape: s)
                        for position in 0..<positions {
                            GEMM.multiplySmall(m: count, n: cOut, k: cIn, a: v + position * count * cIn, lda: cIn,
                                               b: p[1].pointer + position * cIn * cOut, ldb: cOut, accumulate: false,
                                               c: mBuffer + position * count * cOut, ldc: cOut, threaded: tasks.count == 1)
                        }
                        transformOutput(mBuffer, tiles: group, bias: p[2].pointer, relu: relu, into: output.pointer,
                                        winners: winners?.pointer, shape: s)
                    }
                }
            }
        }
    }

    /// With `winners` (from `forwardMaxPooled`), `upstream` is the gradient of the pooled output.
    static func backward(input: [Float], kernel: [Float], upstream: [Float], shape s: ConvolutionShape, needInput: Bool,
                         reluOutput: [Float]?, winners: [Float]? = nil) -> (input: [Float]?, kernel: [Float], bias: [Float]) {
        let (cIn, cOut, positions) = (s.inputChannels, s.outputChannels, α * α)
        let tilesPerImage = tiles(s).rows * tiles(s).columns
        let groupSize = max(1, ConvolutionWinograd.groupElements(s, positions: positions, backward: true) / (positions * (cIn + cOut)))
        let tasks = Parallel.chunks(s.batch, costPerItem: s.outputPixels * s.patchLength * cOut)
        // Uᵀ_ξ (n_C × n_C_prev), for dV_ξ = dM_ξ · Uᵀ_ξ (unused without dA).
        let transformedKernel = needInput ? transposedPositions(transformKernel(kernel, shape: s), rows: cIn, columns: cOut) : kernel
        let partialLength = positions * cIn * cOut + cOut  // each task's dU (α² matrices n_C_prev × n_C), then its db
        var dInput = [Float](repeating: 0, count: needInput ? input.count : 0)
        let sums = ScratchBuffers.withBuffer(count: tasks.count * partialLength) { partials in
            let partials = SendableMutablePointer(partials)
            withSendablePointers([input, transformedKernel, upstream, reluOutput ?? upstream]) { p in
                (winners ?? []).withUnsafeBufferPointer { winnersBuffer in
                    let winnersPointer = winners == nil ? nil : winnersBuffer.baseAddress.map { SendablePointer($0) }
                    dInput.withUnsafeMutableBufferPointer { dA in
                        let dA = needInput ? SendableMutablePointer(dA.baseAddress!) : nil
                        let masked = reluOutput != nil
                        Parallel.run(tasks: tasks.count) { task in
                            let threaded = tasks.count == 1
                            let taskTiles = tasks[task].lowerBound * tilesPerImage..<tasks[task].upperBound * tilesPerImage
                            let dU = partials.pointer + task * partialLength, db = dU + positions * cIn * cOut
                            db.update(repeating: 0, count: cOut)
                            let capacity = min(groupSize, taskTiles.count)
                            ScratchBuffers.withBuffer(count: positions * capacity * (cIn + cOut)) { buffer in
                                let (v, dM) = (buffer, buffer + positions * capacity * cIn)
                                for first in stride(from: taskTiles.lowerBound, to: taskTiles.upperBound, by: groupSize) {
                                    let group = first..<min(first + groupSize, taskTiles.upperBound), count = group.count
                                    transformInput(p[0].pointer, tiles: group, into: v, shape: s)
                                    transformUpstream(p[2].pointer, reluOutput: masked ? p[3].pointer : nil,
                                                      winners: winnersPointer?.pointer, tiles: group,
                                                      into: dM, biasGradient: db, shape: s)
                                    for position in 0..<positions {
                                        GEMM.multiplySmall(transposeA: true, m: cIn, n: cOut, k: count, a: v + position * count * cIn,
                                                           lda: cIn, b: dM + position * count * cOut, ldb: cOut,
                                                           accumulate: first != taskTiles.lowerBound, c: dU + position * cIn * cOut,
                                                           ldc: cOut, threaded: threaded)
                                    }
                                    guard let dA else { continue }
                                    // dV_ξ = dM_ξ · U_ξᵀ, into V's buffer (V is no longer needed).
                                    for position in 0..<positions {
                                        GEMM.multiplySmall(m: count, n: cIn, k: cOut, a: dM + position * count * cOut,
                                                           lda: cOut, b: p[1].pointer + position * cIn * cOut, ldb: cIn, accumulate: false,
                                                           c: v + position * count * cIn, ldc: cIn, threaded: threaded)
                                    }
                                    addInputGradient(v, tiles: group, into: dA.pointer, shape: s)
                                }
                            }
                        }
                    }
                }
            }
            // The tasks' partial sums, added in task order.
            return [Float](unsafeUninitializedCapacity: partialLength) { total, initialized in
                total.initialize(repeating: 0)
                for task in 0..<tasks.count {
                    for e in 0..<partialLength { total[e] += partials.pointer[task * partialLength + e] }
                }
                initialized = partialLength
            }
        }
        let kernelGradient = sums.withUnsafeBufferPointer { kernelGradientFromTransformed($0.baseAddress!, shape: s) }
        return (needInput ? dInput : nil, kernelGradient, Array(sums[(positions * cIn * cOut)...]))
    }

    /// Output tiles (`m × m` blocks) down and across one image.
    private static func tiles(_ s: ConvolutionShape) -> (rows: Int, columns: Int) {
        ((s.window.outputHeight + m - 1) / m, (s.window.outputWidth + m - 1) / m)
    }

    /// `target (k × k) = T source Tᵀ` for the `n × n` block `source` (row-major), by the 1-D map
    /// `map` (n → k): on each column into `scratch` (k × n), then on each row.
    @inline(__always) private static func separable(
        _ map: (UnsafePointer<Vector>, UnsafeMutablePointer<Vector>, Int) -> Void, n: Int, k: Int,
        _ source: UnsafeMutablePointer<Vector>, _ scratch: UnsafeMutablePointer<Vector>, _ target: UnsafeMutablePointer<Vector>
    ) {
        for j in 0..<n { map(source + j, scratch + j, n) }
        for i in 0..<k { map(scratch + i * n, target + i * k, 1) }
    }

    /// Three blocks of `α × α` vectors (source, scratch, target) for `separable`.
    @inline(__always) private static func withBlocks<R>(
        _ body: (UnsafeMutablePointer<Vector>, UnsafeMutablePointer<Vector>, UnsafeMutablePointer<Vector>) -> R
    ) -> R {
        withUnsafeTemporaryAllocation(of: Vector.self, capacity: 3 * 64) { blocks in
            let base = blocks.baseAddress!
            return body(base, base + 64, base + 128)
        }
    }

    /// Calls `body(tile, image, row, column)` for every tile of `group`, the batch's tiles numbered
    /// image by image and in each image row by row: `tile` counts from 0 within the group, `row`
    /// and `column` place the tile in its image.
    @inline(__always) private static func forEachTile(of group: Range<Int>, shape s: ConvolutionShape,
                                                      _ body: (_ tile: Int, _ image: Int, _ row: Int, _ column: Int) -> Void) {
        let (tileRows, tileColumns) = tiles(s)
        for t in group {
            let (image, inImage) = t.quotientAndRemainder(dividingBy: tileRows * tileColumns)
            let (row, column) = inImage.quotientAndRemainder(dividingBy: tileColumns)
            body(t - group.lowerBound, image, row, column)
        }
    }

    /// Calls `body(tile, offsets)` for every tile of `group` in order (`tile` counting from 0),
    /// with where its `α × α` input block lies: offsets into the NHWC input, −1 in the padding.
    @inline(__always) private static func forEachInputBlock(of group: Range<Int>, shape s: ConvolutionShape,
                                                            _ body: (Int, UnsafePointer<Int>) -> Void) {
        let g = s.window
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 64) { buffer in
            let offsets = buffer.baseAddress!
            forEachTile(of: group, shape: s) { tile, image, th, tw in
        for n in 0..<(α * α) {
            let y = m * th - g.padTop + n / α, x = m * tw - g.padLeft + n % α
            let inside = y >= 0 && y < g.inputHeight && x >= 0 && x < g.inputWidth
            offsets[n] = inside ? ((image * g.inputHeight + y) * g.inputWidth + x) * s.inputChannels : -1
        }
        body(tile, offsets)
            }
        }
    }

    /// `U = G g Gᵀ` for every (input channel, filter) pair of the `(r, r, n_C_prev, n_C)` kernel,
    /// stored as `α²` matrices `U_ξ (n_C_prev × n_C)`.
    private static func transformKernel(_ kernel: [Float], shape s: ConvolutionShape) -> [Float] {
        let (cIn, cOut, positions) = (s.inputChannels, s.outputChannels, α * α)
        return [Float](unsafeUninitializedCapacity: positions * cIn * cOut) { u, initialized in
            let target = SendableMutablePointer(u.baseAddress!)
            withSendablePointers([kernel]) { p in
                Parallel.forEachChunk(cIn, costPerItem: 50 * cOut) { channels in
                    withBlocks { source, scratch, block in
                        for k in channels {
                            for c in stride(from: 0, to: cOut, by: Vector.scalarCount) {
                                for n in 0..<(r * r) { source[n] = load(p[0].pointer + (n * cIn + k) * cOut + c) }
                                separable(T.kernelTransform, n: r, k: α, source, scratch, block)
                                for n in 0..<positions { store(block[n], to: target.pointer + (n * cIn + k) * cOut + c) }
                            }
                        }
                    }
                }
            }
            initialized = positions * cIn * cOut
        }
    }

    /// Each of the `α²` row-major `rows × columns` matrices of `matrices`, transposed.
    private static func transposedPositions(_ matrices: [Float], rows: Int, columns: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: matrices.count) { target, initialized in
            for base in stride(from: 0, to: matrices.count, by: rows * columns) {
                for i in 0..<rows {
                    for j in 0..<columns { target[base + j * rows + i] = matrices[base + i * columns + j] }
                }
            }
            initialized = matrices.count
        }
    }

    /// `dg = Gᵀ dU G` for every (input channel, filter) pair: the `α²` matrices `dU_ξ` at the
    /// start of `dU` become the `(r, r, n_C_prev, n_C)` kernel gradient.
    private static func kernelGradientFromTransformed(_ dU: UnsafePointer<Float>, shape s: ConvolutionShape) -> [Float] {
        let (cIn, cOut, positions) = (s.inputChannels, s.outputChannels, α * α)
        return [Float](unsafeUninitializedCapacity: r * r * cIn * cOut) { dW, initialized in
            withBlocks { source, scratch, block in
                for k in 0..<cIn {
                    for c in stride(from: 0, to: cOut, by: Vector.scalarCount) {
                        for n in 0..<positions { source[n] = load(dU + (n * cIn + k) * cOut + c) }
                        separable(T.kernelAdjoint, n: α, k: r, source, scratch, block)
                        for n in 0..<(r * r) { store(block[n], to: dW.baseAddress! + (n * cIn + k) * cOut + c) }
                    }
                }
            }
            initialized = r * r * cIn * cOut
        }
    }

    /// `V = Bᵀ d B` for every tile of `group` and every input channel, into the `α²` matrices
    /// `V_ξ (tiles × n_C_prev)`; input outside the image (padding) reads as zero.
    private static func transformInput(_ input: UnsafePointer<Float>, tiles group: Range<Int>, into v: UnsafeMutablePointer<Float>,
                                       shape s: ConvolutionShape) {
        if let compiled = T.compiled {
            var shape = ConvolutionDirect.cShape(s)
            return compiled.input(input, &shape, group.lowerBound, Int32(group.count), v)
        }
        let cIn = s.inputChannels, positions = α * α, count = group.count
        withBlocks { source, scratch, block in
            forEachInputBlock(of: group, shape: s) { tile, offsets in
                for k in stride(from: 0, to: cIn, by: Vector.scalarCount) {
                    for n in 0..<positions {
                        source[n] = offsets[n] < 0 ? Vector(repeating: 0) : load(input + offsets[n] + k)
                    }
                    separable(T.inputTransform, n: α, k: α, source, scratch, block)
                    for n in 0..<positions { store(block[n], to: v + (n * count + tile) * cIn + k) }
                }
            }
        }
    }

    /// `Y = Aᵀ M A` for every tile of `group` and filter, plus the bias (and ReLU), written to the
    /// NHWC output; the parts of edge tiles beyond the output are dropped. With `winners`, the
    /// tile's 2x2 pooling windows are reduced instead (`maxPool`) and only their maxima written.
    private static func transformOutput(_ mBuffer: UnsafePointer<Float>, tiles group: Range<Int>, bias: UnsafePointer<Float>,
                                        relu: Bool, into output: UnsafeMutablePointer<Float>,
                                        winners: UnsafeMutablePointer<Float>?, shape s: ConvolutionShape) {
        if let compiled = T.compiled {
            var shape = ConvolutionDirect.cShape(s)
            return compiled.output(mBuffer, bias, &shape, group.lowerBound, Int32(group.count), relu ? 1 : 0, output, winners)
        }
        let g = s.window, cOut = s.outputChannels, positions = α * α, count = group.count
        withBlocks { source, scratch, block in
            forEachTile(of: group, shape: s) { tile, image, th, tw in
                for c in stride(from: 0, to: cOut, by: Vector.scalarCount) {
                    for n in 0..<positions { source[n] = load(mBuffer + (n * count + tile) * cOut + c) }
                    separable(T.outputTransform, n: α, k: m, source, scratch, block)
                    let b = load(bias + c)
                    if let winners {
                        maxPool(block, bias: b, relu: relu, image: image, tile: (th, tw), channel: c,
                                into: output, winners: winners, shape: s)
                        continue
                    }
                    for n in 0..<(m * m) {
                        let (y, x) = (m * th + n / m, m * tw + n % m)
                        guard y < g.outputHeight, x < g.outputWidth else { continue }
                        var value = block[n] + b
                        if relu { value.replace(with: 0, where: value .< 0) }
                        store(value, to: output + ((image * g.outputHeight + y) * g.outputWidth + x) * cOut + c)
                    }
                }
            }
        }
    }

    /// The 2x2 max pools (stride 2) of one output tile's `m × m` block of channels `c..<c+8` (bias
    /// `b` added, then `max(0, ·)` when `relu`), and which pixel of each window won: the first
    /// of equal values in scan order (0–3), or 4 when `relu` zeroed the window (no gradient).
    /// Windows beyond `⌊n_H/2⌋ × ⌊n_W/2⌋` are dropped, as valid pooling drops an odd last row.
    @inline(__always) private static func maxPool(
        _ block: UnsafePointer<Vector>, bias b: Vector, relu: Bool, image: Int, tile: (row: Int, column: Int), channel c: Int,
        into output: UnsafeMutablePointer<Float>, winners: UnsafeMutablePointer<Float>, shape s: ConvolutionShape
    ) {
        let (pooledHeight, pooledWidth, cOut, half) = (s.window.outputHeight / 2, s.window.outputWidth / 2, s.outputChannels, m / 2)
        for py in 0..<half {
            for px in 0..<half {
                let (y, x) = (half * tile.row + py, half * tile.column + px)
                guard y < pooledHeight, x < pooledWidth else { continue }
                let corner = block + 2 * py * m + 2 * px
                var best = corner[0] + b, winner = Vector(repeating: 0)
                for (index, offset) in [(1, 1), (2, m), (3, m + 1)] as [(Float, Int)] {
                    let value = corner[offset] + b
                    winner.replace(with: index, where: value .> best)
                    best.replace(with: value, where: value .> best)
                }
                if relu {
                    winner.replace(with: 4, where: .!(best .> 0))
                    best.replace(with: 0, where: .!(best .> 0))
                }
                let offset = ((image * pooledHeight + y) * pooledWidth + x) * cOut + c
                store(best, to: output + offset)
                store(winner, to: winners + offset)
            }
        }
    }

    /// `dM = A dY Aᵀ` for every tile of `group` and filter, into the `α²` matrices
    /// `dM_ξ (tiles × n_C)`. Outputs beyond the edge count as zero; with `reluOutput`, `dY` is
    /// first masked by `y > 0`. With `winners` (`maxPool`'s), `upstream` is the gradient of the
    /// pooled output and `dY` is it routed to each window's winner, zero elsewhere. Adds `Σ dY`
    /// over the group's pixels to `biasGradient`.
    private static func transformUpstream(_ upstream: UnsafePointer<Float>, reluOutput: UnsafePointer<Float>?,
                                          winners: UnsafePointer<Float>?, tiles group: Range<Int>, into dM: UnsafeMutablePointer<Float>,
                                          biasGradient db: UnsafeMutablePointer<Float>, shape s: ConvolutionShape) {
        if let compiled = T.compiled {
            var shape = ConvolutionDirect.cShape(s)
            return compiled.upstream(upstream, reluOutput, winners, &shape, group.lowerBound, Int32(group.count), dM, db)
        }
        let g = s.window, cOut = s.outputChannels, positions = α * α, count = group.count
        let (pooledHeight, pooledWidth) = (g.outputHeight / 2, g.outputWidth / 2)
        withBlocks { source, scratch, block in
            forEachTile(of: group, shape: s) { tile, image, th, tw in
                for c in stride(from: 0, to: cOut, by: Vector.scalarCount) {
                    var sum = load(db + c)
                    for n in 0..<(m * m) {
                        let (y, x) = (m * th + n / m, m * tw + n % m)
                        var value = Vector(repeating: 0)  // beyond the edge (or not a window's winner)
                        if let winners {
                            if y / 2 < pooledHeight, x / 2 < pooledWidth {
                                let offset = ((image * pooledHeight + y / 2) * pooledWidth + x / 2) * cOut + c
                                value = load(upstream + offset)
                                value.replace(with: 0, where: load(winners + offset) .!= Float(2 * (y % 2) + x % 2))
                            }
                        } else if y < g.outputHeight, x < g.outputWidth {
                            let offset = ((image * g.outputHeight + y) * g.outputWidth + x) * cOut + c
                            value = load(upstream + offset)
                            if let reluOutput { value.replace(with: 0, where: load(reluOutput + offset) .<= 0) }
                        }
                        source[n] = value
                        sum += value
                    }
                    store(sum, to: db + c)
                    separable(T.outputAdjoint, n: m, k: α, source, scratch, block)
                    for n in 0..<positions { store(block[n], to: dM + (n * count + tile) * cOut + c) }
                }
            }
        }
    }

    /// `dd = B dV Bᵀ` for every tile of `group` and input channel, added onto the `α × α` input
    /// block under the tile (neighbouring blocks overlap by `r − 1` pixels); positions in the padding
    /// are dropped.
    private static func addInputGradient(_ dV: UnsafePointer<Float>, tiles group: Range<Int>,
                                         into dA: UnsafeMutablePointer<Float>, shape s: ConvolutionShape) {
        if let compiled = T.compiled {
            var shape = ConvolutionDirect.cShape(s)
            return compiled.inputGradient(dV, &shape, group.lowerBound, Int32(group.count), dA)
        }
        let cIn = s.inputChannels, positions = α * α, count = group.count
        withBlocks { source, scratch, block in
            forEachInputBlock(of: group, shape: s) { tile, offsets in
                for k in stride(from: 0, to: cIn, by: Vector.scalarCount) {
                    for n in 0..<positions { source[n] = load(dV + (n * count + tile) * cIn + k) }
                    separable(T.inputAdjoint, n: α, k: α, source, scratch, block)
                    for n in 0..<positions where offsets[n] >= 0 {
                        store(load(dA + offsets[n] + k) + block[n], to: dA + offsets[n] + k)
                    }
                }
            }
        }
    }

    @inline(__always) private static func load(_ pointer: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }

    @inline(__always) private static func store(_ vector: Vector, to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: vector, as: Vector.self)
    }
}
