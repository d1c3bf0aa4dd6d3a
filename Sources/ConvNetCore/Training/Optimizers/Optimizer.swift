/// Updates parameters from their gradients. Each optimizer keeps its per-parameter state (moments,
/// accumulators) in `slots`, keyed by the parameter's path (`conv2d/kernel`), and counts its steps.
///
/// Epsilon placement follows the lecture notes' formulas, noted on each type; Keras puts it outside the
/// square root for Adam and RMSprop, so with the same ε the updates differ slightly when a
/// gradient's second moment is tiny.
///
/// `parameterGroups` give parameters their own learning-rate multiplier, weight decay (coupled L2
/// `g ← g + λ·w` or decoupled `w ← w − α·λ·w`, see `WeightDecay`) or freeze them; see `ParameterGroup`.
public protocol Optimizer: Sendable {
    /// The step size `α`; a learning-rate schedule may change it between steps.
    var learningRate: Float { get set }
    /// Number of updates applied so far (`t`, 1 after the first update); set when resuming.
    var step: Int { get set }
    /// Per-parameter state tensors by parameter path, `slotsPerParameter` of them per parameter,
    /// each of the parameter's shape; created (zero-filled) on a parameter's first update and
    /// saved in checkpoints. A parameter whose slots do not match it makes `update` throw.
    var slots: [String: [Tensor]] { get set }
    /// How many state tensors the optimizer keeps per parameter (0 for SGD, 2 for Adam).
    var slotsPerParameter: Int { get }
    /// Per-parameter settings: learning-rate multipliers, weight decay, frozen parameters.
    var parameterGroups: [ParameterGroup] { get set }
    /// Keras's optimizer name (`adam`, `sgd`, ...).
    var kerasName: String { get }

    /// `w ← w − (update from g)` for every parameter not frozen by `parameterGroups`, with
    /// `gradients[i]` the gradient of `parameters[i]` (same shape). Throws, naming the parameter,
    /// when a gradient's shape or a slot's count or shape does not match its parameter; then
    /// nothing is changed.
    mutating func update(_ parameters: inout [Parameter], gradients: [Tensor]) throws
}

extension Optimizer {
    /// `update` for unnamed tensors: `weights[i]` is the parameter named `"\(i)"` (its slots are
    /// keyed `"0"`, `"1"`, ...), so the list must keep its order and shapes between calls.
    public mutating func update(_ weights: inout [Tensor], gradients: [Tensor]) throws {
        var parameters = weights.enumerated().map { Parameter(path: String($0), value: $1) }
        weights = []  // the parameters now hold the only references: updated in place
        defer { weights = parameters.map(\.value) }
        try update(&parameters, gradients: gradients)
    }

    /// Throws, naming the parameter, unless `slots` fit `parameters`: every slot entry belongs to
    /// one of them and has `slotsPerParameter` tensors of its shape, and, once a step has been
    /// taken (`step > 0`), every parameter that is not frozen has its slots. Checkpoints check
    /// resumed state with it.
    public func validateSlots(for parameters: [Parameter]) throws {
        let byPath = Dictionary(parameters.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        for path in slots.keys.sorted() where byPath[path] == nil {
            throw ConvNetError.argument("\(kerasName): optimizer state for '\(path)', which is not a trainable weight of the model")
        }
        for parameter in parameters {
            if let parameterSlots = slots[parameter.path] {
                try OptimizerState.check(parameterSlots, of: parameter, count: slotsPerParameter, optimizer: kerasName)
            } else if step > 0, slotsPerParameter > 0, !isFrozen(parameter) {
                throw ConvNetError.argument("\(kerasName): no optimizer state for weight '\(parameter.path)' after \(step) steps")
            }
        }
    }
}

/// Shared bookkeeping for the optimizers: steps, slots, parameter groups and the checks.
struct OptimizerState: Sendable {
    var step = 0
    var slots: [String: [Tensor]] = [:]
    var groups: [ParameterGroup] = []

    /// Throws, naming the parameter, unless `slots` are `count` tensors of `parameter`'s shape.
    static func check(_ slots: [Tensor], of parameter: Parameter, count: Int, optimizer: String) throws {
        guard slots.count == count else {
            throw ConvNetError.argument("\(optimizer): weight '\(parameter.path)' has \(slots.count) optimizer slots, expected \(count)")
        }
        for (index, slot) in slots.enumerated() where slot.shape != parameter.shape {
            throw ConvNetError.shape(op: optimizer, message: "slot \(index) of weight '\(parameter.path)' has shape \(describe(shape: slot.shape)), but the weight has \(describe(shape: parameter.shape))")
        }
    }

    /// One optimizer step over `parameters`: checks everything first (gradient and slot shapes,
    /// unique paths), increments the step, then updates each parameter that is not frozen with
    /// `rule(α, λ)`, where `α = learningRate · multiplier` and `λ` the decoupled decay when
    /// `ruleAppliesDecoupledDecay` (else 0, and `w ← w − α·λ·w` is applied before the rule); coupled
    /// decay adds `λ·w` to the gradient first. Missing slots are created zero-filled.
    mutating func update<Rule: ElementwiseRule>(
        _ parameters: inout [Parameter], gradients: [Tensor], learningRate: Float, slotsPerParameter count: Int,
        defaultDecay: WeightDecay? = nil, ruleAppliesDecoupledDecay: Bool = false, optimizer: String,
        rule: (_ learningRate: Float, _ decoupledDecay: Float) -> Rule) throws {
        guard parameters.count == gradients.count else {
            throw ConvNetError.argument("\(optimizer): \(parameters.count) weights but \(gradients.count) gradients")
        }
        var seen = Set<String>()
        var settings: [ParameterSettings] = []
        for (parameter, gradient) in zip(parameters, gradients) {
            guard seen.insert(parameter.path).inserted else {
                throw ConvNetError.argument("\(optimizer): two weights are named '\(parameter.path)'")
            }
            guard parameter.shape == gradient.shape else {
                throw ConvNetError.shape(op: optimizer, message: "gradient \(describe(shape: gradient.shape)) does not match weight '\(parameter.path)' \(describe(shape: parameter.shape))")
            }
            let setting = ParameterSettings(for: parameter, groups: groups, defaultDecay: defaultDecay)
            if !setting.isFrozen, let existing = slots[parameter.path] {
                try Self.check(existing, of: parameter, count: count, optimizer: optimizer)
            }
            settings.append(setting)
        }
        step += 1
        for index in parameters.indices where !settings[index].isFrozen {
            let setting = settings[index], lr = learningRate * setting.learningRateMultiplier
            let path = parameters[index].path, shape = parameters[index].shape
            var parameterSlots = slots.removeValue(forKey: path) ?? (0..<count).map { _ in Tensor(shape: shape) }
            let decoupled = setting.decoupledDecay
            let base = rule(lr, ruleAppliesDecoupledDecay ? decoupled : 0)
            let decayed = DecayedRule(base: base, coupled: setting.coupledDecay,
                                      decoupled: ruleAppliesDecoupledDecay ? 0 : lr * decoupled)
            if decayed.coupled == 0, decayed.decoupled == 0 {
                updateElementwise(&parameters[index].value, gradients[index], &parameterSlots, base)
            } else {
                updateElementwise(&parameters[index].value, gradients[index], &parameterSlots, decayed)
            }
            if count > 0 { slots[path] = parameterSlots }
        }
    }
}

/// `base` with weight decay: `g ← g + coupled·w` (coupled L2), then `w ← w − decoupled·w`
/// (`decoupled = α·λ`), then `base`'s update.
struct DecayedRule<Base: ElementwiseRule>: ElementwiseRule {
    let base: Base, coupled: Float, decoupled: Float
    @inline(__always) func apply<L: Lanes>(_ w: inout L, _ g: L, _ s0: inout L, _ s1: inout L) {
        let g = coupled == 0 ? g : g + coupled * w
        if decoupled != 0 { w = w - decoupled * w }
        base.apply(&w, g, &s0, &s1)
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

/// Applies `rule` to every element of `weight`, eight elements at a time and then one by one.
/// The weight and its slots are updated in place (copied only when their storage is shared), and
/// large tensors are split over the threads; each element's update is independent of the others,
/// so neither the split nor the lanes change the result.
func updateElementwise<Rule: ElementwiseRule>(_ weight: inout Tensor, _ gradient: Tensor, _ slots: inout [Tensor],
                                              _ rule: Rule) {
    guard weight.count > 0 else { return }
    weight.tapeEntry = nil
    slots.withUnsafeMutableBufferPointer { slots in
        withScalars(of: slots, 0) { s0 in
            withScalars(of: slots, 1) { s1 in
                weight.scalars.withUnsafeMutableBufferPointer { w in
                    gradient.scalars.withUnsafeBufferPointer { g in
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
