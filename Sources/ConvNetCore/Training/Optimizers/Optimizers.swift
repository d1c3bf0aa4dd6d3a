import Foundation

/// Gradient descent, `W ← W − α·dW`.
public struct SGD: Optimizer {
    /// The step size `α`; schedules change it between epochs or steps.
    public var learningRate: Float
    var state = OptimizerState()

    /// Plain gradient descent (Keras `SGD(learning_rate=0.01)`).
    public init(learningRate: Float = 0.01) { self.learningRate = learningRate }
    /// Updates applied so far (Keras's `iterations`); bias correction and checkpoints use it.
    public var step: Int { get { state.step } set { state.step = newValue } }
    /// The per-parameter state (moments, velocities) by parameter path, saved in checkpoints.
    public var slots: [String: [Tensor]] { get { state.slots } set { state.slots = newValue } }
    /// 0 state tensors per parameter.
    public var slotsPerParameter: Int { 0 }
    /// Per-parameter learning-rate multipliers, weight decay and frozen parameters.
    public var parameterGroups: [ParameterGroup] { get { state.groups } set { state.groups = newValue } }
    /// The optimizer's name in checkpoints and on the command line.
    public var kerasName: String { "sgd" }

    /// Applies one update to `parameters` from `gradients` (same order and shapes); see `Optimizer.update`.
    public mutating func update(_ parameters: inout [Parameter], gradients: [Tensor]) throws {
        try state.update(&parameters, gradients: gradients, learningRate: learningRate, slotsPerParameter: 0,
                         optimizer: "SGD") { lr, _ in Rule(lr: lr) }
    }

    struct Rule: ElementwiseRule {
        let lr: Float
        @inline(__always) func apply<L: Lanes>(_ w: inout L, _ g: L, _ s0: inout L, _ s1: inout L) { w = w - lr * g }
    }
}

/// Gradient descent with momentum, in either of the lecture notes' forms.
public struct Momentum: Optimizer {
    /// How the velocity is formed and applied.
    public enum Form: Sendable, Equatable {
        /// the lecture notes' exponentially weighted average: `v ← β·v + (1 − β)·dW`, `W ← W − α·v`.
        case exponentialAverage
        /// The classic (Keras `SGD(momentum=β)`, PyTorch up to the sign convention) form:
        /// `v ← β·v − α·dW`, `W ← W + v`.
        case classic
        /// Nesterov's look-ahead, as Keras: `v ← β·v − α·dW`, `W ← W + β·v − α·dW`.
        case nesterov
    }

    /// The step size `α`; schedules change it between epochs or steps.
    public var learningRate: Float
    /// The velocity's decay `β`.
    public let beta: Float
    /// Which of the momentum formulas is used.
    public let form: Form
    var state = OptimizerState()

    /// Momentum with step `α`, decay `β` and the given form.
    public init(learningRate: Float = 0.01, beta: Float = 0.9, form: Form = .exponentialAverage) {
        self.learningRate = learningRate
        self.beta = beta
        self.form = form
    }

    /// Updates applied so far (Keras's `iterations`); bias correction and checkpoints use it.
    public var step: Int { get { state.step } set { state.step = newValue } }
    /// The per-parameter state (moments, velocities) by parameter path, saved in checkpoints.
    public var slots: [String: [Tensor]] { get { state.slots } set { state.slots = newValue } }
    /// 1 state tensor per parameter.
    public var slotsPerParameter: Int { 1 }
    /// Per-parameter learning-rate multipliers, weight decay and frozen parameters.
    public var parameterGroups: [ParameterGroup] { get { state.groups } set { state.groups = newValue } }
    /// The optimizer's name in checkpoints and on the command line.
    public var kerasName: String { form == .nesterov ? "nesterov" : "momentum" }

    /// Applies one update to `parameters` from `gradients` (same order and shapes); see `Optimizer.update`.
    public mutating func update(_ parameters: inout [Parameter], gradients: [Tensor]) throws {
        try state.update(&parameters, gradients: gradients, learningRate: learningRate, slotsPerParameter: 1,
                         optimizer: "Momentum") { [beta, form] lr, _ in Rule(lr: lr, beta: beta, form: form) }
    }

    struct Rule: ElementwiseRule {
        let lr: Float, beta: Float, form: Form
        @inline(__always) func apply<L: Lanes>(_ w: inout L, _ g: L, _ v: inout L, _ s1: inout L) {
            switch form {
            case .exponentialAverage:
                v = beta * v + (1 - beta) * g
                w = w - lr * v
            case .classic:
                v = beta * v - lr * g
                w = w + v
            case .nesterov:
                v = beta * v - lr * g
                w = w + (beta * v - lr * g)
            }
        }
    }
}

/// Adagrad (lecture notes): `v ← v + dW²`, `W ← W − α·dW / (√v + ε)` (ε outside the root).
public struct Adagrad: Optimizer {
    /// The step size `α`; schedules change it between epochs or steps.
    public var learningRate: Float
    /// Added to the denominator `√(·) + ε` so that it never divides by zero.
    public let epsilon: Float
    var state = OptimizerState()

    /// Adagrad with step `α` and stabiliser `ε`.
    public init(learningRate: Float = 0.01, epsilon: Float = 1e-8) {
        self.learningRate = learningRate
        self.epsilon = epsilon
    }

    /// Updates applied so far (Keras's `iterations`); bias correction and checkpoints use it.
    public var step: Int { get { state.step } set { state.step = newValue } }
    /// The per-parameter state (moments, velocities) by parameter path, saved in checkpoints.
    public var slots: [String: [Tensor]] { get { state.slots } set { state.slots = newValue } }
    /// 1 state tensor per parameter.
    public var slotsPerParameter: Int { 1 }
    /// Per-parameter learning-rate multipliers, weight decay and frozen parameters.
    public var parameterGroups: [ParameterGroup] { get { state.groups } set { state.groups = newValue } }
    /// The optimizer's name in checkpoints and on the command line.
    public var kerasName: String { "adagrad" }

    /// Applies one update to `parameters` from `gradients` (same order and shapes); see `Optimizer.update`.
    public mutating func update(_ parameters: inout [Parameter], gradients: [Tensor]) throws {
        try state.update(&parameters, gradients: gradients, learningRate: learningRate, slotsPerParameter: 1,
                         optimizer: "Adagrad") { [epsilon] lr, _ in Rule(lr: lr, eps: epsilon) }
    }

    struct Rule: ElementwiseRule {
        let lr: Float, eps: Float
        @inline(__always) func apply<L: Lanes>(_ w: inout L, _ g: L, _ v: inout L, _ s1: inout L) {
            v = v + g * g
            w = w - lr * g / (v.squareRoot() + eps)
        }
    }
}

/// RMSprop (lecture notes): `S ← ρ·S + (1 − ρ)·dW²`, `W ← W − α·dW / √(S + ε)` (ε inside the root).
public struct RMSprop: Optimizer {
    /// The step size `α`; schedules change it between epochs or steps.
    public var learningRate: Float
    /// The decay `ρ` of the running mean of squared gradients.
    public let rho: Float
    /// Added to the denominator `√(·) + ε` so that it never divides by zero.
    public let epsilon: Float
    var state = OptimizerState()

    /// RMSprop with step `α`, decay `ρ` and stabiliser `ε` (Keras's defaults).
    public init(learningRate: Float = 0.001, rho: Float = 0.9, epsilon: Float = 1e-8) {
        self.learningRate = learningRate
        self.rho = rho
        self.epsilon = epsilon
    }

    /// Updates applied so far (Keras's `iterations`); bias correction and checkpoints use it.
    public var step: Int { get { state.step } set { state.step = newValue } }
    /// The per-parameter state (moments, velocities) by parameter path, saved in checkpoints.
    public var slots: [String: [Tensor]] { get { state.slots } set { state.slots = newValue } }
    /// 1 state tensor per parameter.
    public var slotsPerParameter: Int { 1 }
    /// Per-parameter learning-rate multipliers, weight decay and frozen parameters.
    public var parameterGroups: [ParameterGroup] { get { state.groups } set { state.groups = newValue } }
    /// The optimizer's name in checkpoints and on the command line.
    public var kerasName: String { "rmsprop" }

    /// Applies one update to `parameters` from `gradients` (same order and shapes); see `Optimizer.update`.
    public mutating func update(_ parameters: inout [Parameter], gradients: [Tensor]) throws {
        try state.update(&parameters, gradients: gradients, learningRate: learningRate, slotsPerParameter: 1,
                         optimizer: "RMSprop") { [rho, epsilon] lr, _ in Rule(lr: lr, rho: rho, eps: epsilon) }
    }

    struct Rule: ElementwiseRule {
        let lr: Float, rho: Float, eps: Float
        @inline(__always) func apply<L: Lanes>(_ w: inout L, _ g: L, _ v: inout L, _ s1: inout L) {
            v = rho * v + (1 - rho) * g * g
            w = w - lr * g / (v + eps).squareRoot()
        }
    }
}

/// Adam with bias correction (lecture notes), and AdamW's decoupled weight decay (for every parameter
/// unless a `ParameterGroup` sets its own `WeightDecay`; a coupled decay then replaces it):
///
///     V ← β₁·V + (1 − β₁)·dW,   S ← β₂·S + (1 − β₂)·dW²
///     V̂ = V / (1 − β₁ᵗ),        Ŝ = S / (1 − β₂ᵗ)
///     W ← W − α·V̂ / √(Ŝ + ε) − α·λ·W          (ε inside the root, as the lecture notes write it; λ = 0 for Adam)
public struct Adam: Optimizer {
    /// The step size `α`; schedules change it between epochs or steps.
    public var learningRate: Float
    /// The decay `β₁` of the first moment (mean of gradients).
    public let beta1: Float
    /// The decay `β₂` of the second moment (mean of squared gradients).
    public let beta2: Float
    /// Added to the denominator `√(·) + ε` so that it never divides by zero.
    public let epsilon: Float
    /// AdamW's `λ`; 0 gives plain Adam.
    public let weightDecay: Float
    var state = OptimizerState()

    /// Adam with Keras's defaults; a non-zero `weightDecay` makes it AdamW.
    public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// AdamW with Keras's default decay `λ = 0.004`.
    public static func adamW(learningRate: Float = 0.001, weightDecay: Float = 0.004) -> Adam {
        Adam(learningRate: learningRate, weightDecay: weightDecay)
    }

    /// Updates applied so far (Keras's `iterations`); bias correction and checkpoints use it.
    public var step: Int { get { state.step } set { state.step = newValue } }
    /// The per-parameter state (moments, velocities) by parameter path, saved in checkpoints.
    public var slots: [String: [Tensor]] { get { state.slots } set { state.slots = newValue } }
    /// 2 state tensors per parameter.
    public var slotsPerParameter: Int { 2 }
    /// Per-parameter learning-rate multipliers, weight decay and frozen parameters.
    public var parameterGroups: [ParameterGroup] { get { state.groups } set { state.groups = newValue } }
    /// The optimizer's name in checkpoints and on the command line.
    public var kerasName: String { weightDecay == 0 ? "adam" : "adamw" }

    /// Applies one update to `parameters` from `gradients` (same order and shapes); see `Optimizer.update`.
    public mutating func update(_ parameters: inout [Parameter], gradients: [Tensor]) throws {
        let t = Float(state.step + 1)  // the step this update takes
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        let correction1 = 1 - Foundation.pow(b1, t), correction2 = 1 - Foundation.pow(b2, t)
        try state.update(&parameters, gradients: gradients, learningRate: learningRate, slotsPerParameter: 2,
                         defaultDecay: .decoupled(weightDecay), ruleAppliesDecoupledDecay: true, optimizer: "Adam") { lr, decay in
            Rule(lr: lr, b1: b1, b2: b2, eps: eps, decay: decay, correction1: correction1, correction2: correction2)
        }
    }

    struct Rule: ElementwiseRule {
        let lr: Float, b1: Float, b2: Float, eps: Float, decay: Float, correction1: Float, correction2: Float
        @inline(__always) func apply<L: Lanes>(_ w: inout L, _ g: L, _ v: inout L, _ s: inout L) {
            v = b1 * v + (1 - b1) * g
            s = b2 * s + (1 - b2) * g * g
            let vHat = v / correction1, sHat = s / correction2
            w = w - (lr * vHat / (sHat + eps).squareRoot() + lr * decay * w)
        }
    }
}
