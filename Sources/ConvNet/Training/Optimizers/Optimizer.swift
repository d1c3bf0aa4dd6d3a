/// Updates weights from their gradients. Each optimizer keeps its per-weight state (moments,
/// accumulators) in `slots`, aligned with the weight list it is given, and counts its steps.
///
/// Epsilon placement follows deck 001's formulas, noted on each type; Keras puts it outside the
/// square root for Adam and RMSprop, so with the same ε the updates differ slightly when a
/// gradient's second moment is tiny.
public protocol Optimizer: Sendable {
    /// The step size `α`; a learning-rate schedule may change it between steps.
    var learningRate: Float { get set }
    /// Number of updates applied so far (`t`, 1 after the first update); set when resuming.
    var step: Int { get set }
    /// Per-weight state tensors, in the order of `update`'s weights, for checkpoints.
    var slots: [[Tensor]] { get set }
    /// Keras's optimizer name (`adam`, `sgd`, ...).
    var kerasName: String { get }

    /// `W ← W − (update from dW)` for every weight.
    mutating func update(_ weights: inout [Tensor], gradients: [Tensor]) throws
}

/// Shared bookkeeping for the optimizers: state creation and shape checks.
struct OptimizerState: Sendable {
    var step = 0
    var slots: [[Tensor]] = []

    /// Increments the step and makes sure `count` zero-filled slot tensors exist for each weight.
    mutating func begin(_ weights: [Tensor], gradients: [Tensor], slotsPerWeight count: Int, optimizer: String) throws {
        guard weights.count == gradients.count else {
            throw ConvNetError.argument("\(optimizer): \(weights.count) weights but \(gradients.count) gradients")
        }
        for (weight, gradient) in zip(weights, gradients) where weight.shape != gradient.shape {
            throw ConvNetError.shape(op: optimizer, message: "gradient \(describe(shape: gradient.shape)) does not match weight \(describe(shape: weight.shape))")
        }
        if slots.count != weights.count || zip(slots, weights).contains(where: { $0.count != count || $0.first?.shape != $1.shape && count > 0 }) {
            slots = weights.map { weight in (0..<count).map { _ in Tensor(shape: weight.shape) } }
        }
        step += 1
    }
}

/// The pointers an element-wise update works on, for the element range `range`: the weight, its
/// gradient, and its first two slots (`s0`, `s1`; placeholders that must not be read when the
/// optimizer keeps fewer).
struct ElementwiseUpdate {
    let w: UnsafeMutablePointer<Float>
    let g: UnsafePointer<Float>
    let s0: UnsafeMutablePointer<Float>
    let s1: UnsafeMutablePointer<Float>
    let range: Range<Int>
}

/// Calls `body` on chunks of every weight, which updates `w` (and its slots) from `g` for each
/// element of `range`. Weights and slots are updated in place (copied only when their storage is
/// shared), large tensors are split over the threads (each element's update is independent of
/// the others, so the split does not change the result), and `body` holds the loop itself, so its
/// arithmetic is compiled inline rather than called per element.
func updateElementwise(_ weights: inout [Tensor], _ gradients: [Tensor], _ slots: inout [[Tensor]],
                       _ body: @escaping @Sendable (ElementwiseUpdate) -> Void) {
    for index in weights.indices where weights[index].count > 0 {
        weights[index].tapeEntry = nil
        slots[index].withUnsafeMutableBufferPointer { slots in
            withScalars(of: slots, 0) { s0 in
                withScalars(of: slots, 1) { s1 in
                    weights[index].scalars.withUnsafeMutableBufferPointer { w in
                        gradients[index].scalars.withUnsafeBufferPointer { g in
                            let count = w.count
                            let (w, g) = (SendableMutablePointer(w.baseAddress!), SendablePointer(g.baseAddress!))
                            Parallel.forEachChunk(count, costPerItem: 16) { range in
                                body(ElementwiseUpdate(w: w.pointer, g: g.pointer, s0: s0.pointer, s1: s1.pointer, range: range))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Calls `body` with a pointer to the scalars of `tensors[index]`, or to a placeholder when there
/// are fewer tensors.
private func withScalars(of tensors: UnsafeMutableBufferPointer<Tensor>, _ index: Int,
                         _ body: (SendableMutablePointer<Float>) -> Void) {
    guard index < tensors.count else {
        var placeholder: Float = 0
        return withUnsafeMutablePointer(to: &placeholder) { body(SendableMutablePointer($0)) }
    }
    tensors[index].scalars.withUnsafeMutableBufferPointer { body(SendableMutablePointer($0.baseAddress!)) }
}
