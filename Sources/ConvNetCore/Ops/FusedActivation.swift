/// An activation run as the last step of another op's loop (an epilogue), eight values at a time,
/// so that its input is never written out and read back: batch normalization's fast kernels apply
/// `g(scale · x + shift)` and take `dz · g'(scale · x + shift)` this way, recomputing the
/// activation's input from `x` instead of keeping it.
///
/// Each conformer computes exactly what the activation's own fast op computes (the same operations
/// in the same order), so a fused op equals the two ops it replaces to the last bit.
protocol FusedActivation: SendableMetatype {
    /// `g(y)`.
    static func apply(_ y: SIMD8<Float>) -> SIMD8<Float>
    /// `dz · g'(y)`: the gradient at the activation's input `y` from the one at its output.
    static func gradient(_ dz: SIMD8<Float>, at y: SIMD8<Float>) -> SIMD8<Float>
}

/// `g(y) = y`.
enum LinearActivation: FusedActivation {
    @inline(__always) static func apply(_ y: SIMD8<Float>) -> SIMD8<Float> { y }
    @inline(__always) static func gradient(_ dz: SIMD8<Float>, at y: SIMD8<Float>) -> SIMD8<Float> { dz }
}

/// `g(y) = max(0, y)`, `g'(y) = 1` for `y > 0`, else 0 (NaN passes through, as in `relu`).
enum ReLUActivation: FusedActivation {
    @inline(__always) static func apply(_ y: SIMD8<Float>) -> SIMD8<Float> { y.replacing(with: 0, where: y .< 0) }
    @inline(__always) static func gradient(_ dz: SIMD8<Float>, at y: SIMD8<Float>) -> SIMD8<Float> {
        dz.replacing(with: 0, where: .!(y .> 0))
    }
}

extension ActivationFunction {
    /// Whether ops with an activation epilogue (`batchNormTraining`, `batchNormInference`) apply
    /// this function inside their own loops: linear, ReLU and GELU. Others run as a separate op.
    public var isFusible: Bool { self == .linear || self == .relu || self == .gelu }
}
