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

/// Applies `body(&w, dW, &s₀, &s₁)` element by element to every weight; `s₀`, `s₁` are the
/// weight's first two slots (scratch values when the optimizer keeps fewer).
func updateElementwise(_ weights: inout [Tensor], _ gradients: [Tensor], _ slots: inout [[Tensor]],
                       _ body: (inout Float, Float, inout Float, inout Float) -> Void) {
    var scratch: [Float] = [0, 0]
    for index in weights.indices {
        var w = weights[index].detached
        var first = slots[index].first?.scalars ?? []
        var second = slots[index].count > 1 ? slots[index][1].scalars : []
        let (hasFirst, hasSecond) = (!first.isEmpty, !second.isEmpty)
        gradients[index].scalars.withUnsafeBufferPointer { g in
            w.scalars.withUnsafeMutableBufferPointer { w in
                first.withUnsafeMutableBufferPointer { s0 in
                    second.withUnsafeMutableBufferPointer { s1 in
                        scratch.withUnsafeMutableBufferPointer { scratch in
                            for e in 0..<w.count {
                                body(&w[e], g[e], &(hasFirst ? s0 : scratch)[hasFirst ? e : 0],
                                     &(hasSecond ? s1 : scratch)[hasSecond ? e : 1])
                            }
                        }
                    }
                }
            }
        }
        weights[index] = w
        if hasFirst { slots[index][0].scalars = first }
        if hasSecond { slots[index][1].scalars = second }
    }
}
