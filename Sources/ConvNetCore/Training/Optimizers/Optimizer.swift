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

/// An optimizer's update of one weight element from its gradient `g`, with up to two slots `s0`,
/// `s1` of per-element state; generic so that the same formula runs on eight elements at once.
protocol ElementwiseRule: Sendable {
    func apply<L: Lanes>(_ w: inout L, _ g: L, _ s0: inout L, _ s1: inout L)
}

/// `Float` or `SIMD8<Float>`: the arithmetic of the update rules. Written for `Float` alone, the
/// loops stay scalar (the scalar square root keeps a library call for `errno` that blocks
/// vectorisation); through `SIMD8` they run eight lanes at a time, with identical rounding.
protocol Lanes {
    init(loading pointer: UnsafePointer<Float>)
    func store(to pointer: UnsafeMutablePointer<Float>)
    static var zero: Self { get }
    static func + (lhs: Self, rhs: Self) -> Self
    static func - (lhs: Self, rhs: Self) -> Self
    static func * (lhs: Self, rhs: Self) -> Self
    static func / (lhs: Self, rhs: Self) -> Self
    static func * (lhs: Float, rhs: Self) -> Self
    static func + (lhs: Self, rhs: Float) -> Self
    static func / (lhs: Self, rhs: Float) -> Self
    func squareRoot() -> Self
}

extension Float: Lanes {
    init(loading pointer: UnsafePointer<Float>) { self = pointer.pointee }
    func store(to pointer: UnsafeMutablePointer<Float>) { pointer.pointee = self }
}

extension SIMD8: Lanes where Scalar == Float {
    init(loading pointer: UnsafePointer<Float>) { self = UnsafeRawPointer(pointer).loadUnaligned(as: Self.self) }
    func store(to pointer: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: Self.self) }
}

/// Applies `rule` to every element of every weight, eight elements at a time and then one by one.
/// Weights and slots are updated in place (copied only when their storage is shared), and large
/// tensors are split over the threads; each element's update is independent of the others, so
/// neither the split nor the lanes change the result.
func updateElementwise<Rule: ElementwiseRule>(_ weights: inout [Tensor], _ gradients: [Tensor], _ slots: inout [[Tensor]],
                                              _ rule: Rule) {
    for index in weights.indices where weights[index].count > 0 {
        weights[index].tapeEntry = nil
        slots[index].withUnsafeMutableBufferPointer { slots in
            withScalars(of: slots, 0) { s0 in
                withScalars(of: slots, 1) { s1 in
                    weights[index].scalars.withUnsafeMutableBufferPointer { w in
                        gradients[index].scalars.withUnsafeBufferPointer { g in
                            let (count, slotCount) = (w.count, slots.count)
                            let (w, g) = (SendableMutablePointer(w.baseAddress!), SendablePointer(g.baseAddress!))
                            Parallel.forEachChunk(count, costPerItem: 16) { range in
                                /// `rule` on the elements at `e..<e + L.scalarCount`; absent slots read as zero.
                                func update<L: Lanes>(_: L.Type, at e: Int) {
                                    var weight = L(loading: w.pointer + e)
                                    var first = slotCount > 0 ? L(loading: s0.pointer + e) : .zero
                                    var second = slotCount > 1 ? L(loading: s1.pointer + e) : .zero
                                    rule.apply(&weight, L(loading: g.pointer + e), &first, &second)
                                    weight.store(to: w.pointer + e)
                                    if slotCount > 0 { first.store(to: s0.pointer + e) }
                                    if slotCount > 1 { second.store(to: s1.pointer + e) }
                                }
                                let vectorEnd = range.lowerBound + range.count / 8 * 8
                                for e in stride(from: range.lowerBound, to: vectorEnd, by: 8) { update(SIMD8<Float>.self, at: e) }
                                for e in vectorEnd..<range.upperBound { update(Float.self, at: e) }
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
