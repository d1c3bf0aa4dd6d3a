/// Clips each step's gradients before the update, as Keras optimizers' `clipvalue`, `clipnorm` and
/// `global_clipnorm` do (and PyTorch's `clip_grad_value_` / `clip_grad_norm_`).
///
/// - `.value(c)`: every element, `g ← min(max(g, −c), c)`.
/// - `.norm(c)`: each weight's gradient on its own, `g ← g · c / max(‖g‖₂, c)` (unchanged when its
///   norm is at most `c`).
/// - `.globalNorm(c)`: all gradients together, `g ← g · c / max(‖G‖₂, c)` with
///   `‖G‖₂ = √(Σ_w ‖g_w‖₂²)`, which keeps their directions relative to each other.
public struct GradientClipping: Callback {
    /// What is clipped, and the bound `c` (positive and finite).
    public enum Mode: Sendable, Equatable {
        /// Each element into `[−c, c]` (Keras `clipvalue`, PyTorch `clip_grad_value_`).
        case value(Float)
        /// Each weight's gradient to an L2 norm of at most `c` (Keras `clipnorm`).
        case norm(Float)
        /// All gradients together to a global L2 norm of at most `c` (Keras `global_clipnorm`,
        /// PyTorch `clip_grad_norm_`).
        case globalNorm(Float)
    }

    /// The kind of clipping and its bound, as validated by ``init(_:)``.
    public let mode: Mode

    /// - Parameter mode: The kind of clipping and its bound `c`.
    /// - Throws: `ConvNetError.argument` unless the bound is positive and finite.
    public init(_ mode: Mode) throws {
        switch mode {
        case let .value(bound), let .norm(bound), let .globalNorm(bound):
            guard bound > 0, bound.isFinite else {
                throw ConvNetError.argument("GradientClipping: the bound must be positive and finite, got \(bound)")
            }
        }
        self.mode = mode
    }

    /// Clips `gradients.values` in place, as `mode` says; the paths and shapes stay as they are.
    public mutating func onGradients(_ gradients: inout Gradients, state: inout TrainingState) throws {
        switch mode {
        case let .value(bound):
            gradients.values = gradients.values.map { $0.mapElements { min(max($0, -bound), bound) } }
        case let .norm(bound):
            gradients.values = gradients.values.map { $0.scaled(by: Self.factor(norm: Float($0.sumOfSquares.squareRoot()), bound: bound)) }
        case let .globalNorm(bound):
            let factor = Self.factor(norm: gradients.globalNorm, bound: bound)
            gradients.values = gradients.values.map { $0.scaled(by: factor) }
        }
    }

    /// `c / max(norm, c)`: 1 when the norm is within the bound.
    static func factor(norm: Float, bound: Float) -> Float { bound / max(norm, bound) }
}

extension Tensor {
    /// `f` applied to every element, as a new constant (no tape).
    func mapElements(_ f: (Float) -> Float) -> Tensor {
        Tensor(validShape: shape, scalars: mapScalars(scalars, f))
    }

    /// `factor · x` as a new constant; the tensor itself when `factor` is 1.
    func scaled(by factor: Float) -> Tensor {
        factor == 1 ? self : mapElements { $0 * factor }
    }
}
