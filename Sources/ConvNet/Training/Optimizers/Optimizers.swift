import Foundation

/// Gradient descent, `W ← W − α·dW`.
public struct SGD: Optimizer {
    public var learningRate: Float
    var state = OptimizerState()

    public init(learningRate: Float = 0.01) { self.learningRate = learningRate }
    public var step: Int { get { state.step } set { state.step = newValue } }
    public var slots: [[Tensor]] { get { state.slots } set { state.slots = newValue } }
    public var kerasName: String { "sgd" }

    public mutating func update(_ weights: inout [Tensor], gradients: [Tensor]) throws {
        try state.begin(weights, gradients: gradients, slotsPerWeight: 0, optimizer: "SGD")
        let lr = learningRate
        updateElementwise(&weights, gradients, &state.slots) { u in
            for e in u.range { u.w[e] -= lr * u.g[e] }
        }
    }
}

/// Gradient descent with momentum, in either of deck 001's forms.
public struct Momentum: Optimizer {
    public enum Form: Sendable, Equatable {
        /// Deck 001's exponentially weighted average: `v ← β·v + (1 − β)·dW`, `W ← W − α·v`.
        case exponentialAverage
        /// The classic (Keras `SGD(momentum=β)`, PyTorch up to the sign convention) form:
        /// `v ← β·v − α·dW`, `W ← W + v`.
        case classic
        /// Nesterov's look-ahead, as Keras: `v ← β·v − α·dW`, `W ← W + β·v − α·dW`.
        case nesterov
    }

    public var learningRate: Float
    public let beta: Float
    public let form: Form
    var state = OptimizerState()

    public init(learningRate: Float = 0.01, beta: Float = 0.9, form: Form = .exponentialAverage) {
        self.learningRate = learningRate
        self.beta = beta
        self.form = form
    }

    public var step: Int { get { state.step } set { state.step = newValue } }
    public var slots: [[Tensor]] { get { state.slots } set { state.slots = newValue } }
    public var kerasName: String { form == .nesterov ? "nesterov" : "momentum" }

    public mutating func update(_ weights: inout [Tensor], gradients: [Tensor]) throws {
        try state.begin(weights, gradients: gradients, slotsPerWeight: 1, optimizer: "Momentum")
        let (lr, beta, form) = (learningRate, beta, form)
        updateElementwise(&weights, gradients, &state.slots) { u in
            let (w, g, v) = (u.w, u.g, u.s0)
            for e in u.range {
                switch form {
                case .exponentialAverage:
                    v[e] = beta * v[e] + (1 - beta) * g[e]
                    w[e] -= lr * v[e]
                case .classic:
                    v[e] = beta * v[e] - lr * g[e]
                    w[e] += v[e]
                case .nesterov:
                    v[e] = beta * v[e] - lr * g[e]
                    w[e] += beta * v[e] - lr * g[e]
                }
            }
        }
    }
}

/// Adagrad (deck 001): `v ← v + dW²`, `W ← W − α·dW / (√v + ε)` (ε outside the root).
public struct Adagrad: Optimizer {
    public var learningRate: Float
    public let epsilon: Float
    var state = OptimizerState()

    public init(learningRate: Float = 0.01, epsilon: Float = 1e-8) {
        self.learningRate = learningRate
        self.epsilon = epsilon
    }

    public var step: Int { get { state.step } set { state.step = newValue } }
    public var slots: [[Tensor]] { get { state.slots } set { state.slots = newValue } }
    public var kerasName: String { "adagrad" }

    public mutating func update(_ weights: inout [Tensor], gradients: [Tensor]) throws {
        try state.begin(weights, gradients: gradients, slotsPerWeight: 1, optimizer: "Adagrad")
        let (lr, eps) = (learningRate, epsilon)
        updateElementwise(&weights, gradients, &state.slots) { u in
            let (w, g, v) = (u.w, u.g, u.s0)
            for e in u.range {
                v[e] += g[e] * g[e]
                w[e] -= lr * g[e] / (v[e].squareRoot() + eps)
            }
        }
    }
}

/// RMSprop (deck 001): `S ← ρ·S + (1 − ρ)·dW²`, `W ← W − α·dW / √(S + ε)` (ε inside the root).
public struct RMSprop: Optimizer {
    public var learningRate: Float
    public let rho: Float
    public let epsilon: Float
    var state = OptimizerState()

    public init(learningRate: Float = 0.001, rho: Float = 0.9, epsilon: Float = 1e-8) {
        self.learningRate = learningRate
        self.rho = rho
        self.epsilon = epsilon
    }

    public var step: Int { get { state.step } set { state.step = newValue } }
    public var slots: [[Tensor]] { get { state.slots } set { state.slots = newValue } }
    public var kerasName: String { "rmsprop" }

    public mutating func update(_ weights: inout [Tensor], gradients: [Tensor]) throws {
        try state.begin(weights, gradients: gradients, slotsPerWeight: 1, optimizer: "RMSprop")
        let (lr, rho, eps) = (learningRate, rho, epsilon)
        updateElementwise(&weights, gradients, &state.slots) { u in
            let (w, g, v) = (u.w, u.g, u.s0)
            for e in u.range {
                v[e] = rho * v[e] + (1 - rho) * g[e] * g[e]
                w[e] -= lr * g[e] / (v[e] + eps).squareRoot()
            }
        }
    }
}

/// Adam with bias correction (deck 001), and AdamW's decoupled weight decay:
///
///     V ← β₁·V + (1 − β₁)·dW,   S ← β₂·S + (1 − β₂)·dW²
///     V̂ = V / (1 − β₁ᵗ),        Ŝ = S / (1 − β₂ᵗ)
///     W ← W − α·V̂ / √(Ŝ + ε) − α·λ·W          (ε inside the root, as the deck writes it; λ = 0 for Adam)
public struct Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    /// AdamW's `λ`; 0 gives plain Adam.
    public let weightDecay: Float
    var state = OptimizerState()

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

    public var step: Int { get { state.step } set { state.step = newValue } }
    public var slots: [[Tensor]] { get { state.slots } set { state.slots = newValue } }
    public var kerasName: String { weightDecay == 0 ? "adam" : "adamw" }

    public mutating func update(_ weights: inout [Tensor], gradients: [Tensor]) throws {
        try state.begin(weights, gradients: gradients, slotsPerWeight: 2, optimizer: "Adam")
        let t = Float(state.step)
        let (lr, b1, b2, eps, decay) = (learningRate, beta1, beta2, epsilon, weightDecay)
        let correction1 = 1 - Foundation.pow(b1, t), correction2 = 1 - Foundation.pow(b2, t)
        updateElementwise(&weights, gradients, &state.slots) { u in
            let (w, g, v, s) = (u.w, u.g, u.s0, u.s1)
            for e in u.range {
                v[e] = b1 * v[e] + (1 - b1) * g[e]
                s[e] = b2 * s[e] + (1 - b2) * g[e] * g[e]
                let vHat = v[e] / correction1, sHat = s[e] / correction2
                w[e] -= lr * vHat / (sHat + eps).squareRoot() + lr * decay * w[e]
            }
        }
    }
}
