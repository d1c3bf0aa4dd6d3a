import Foundation

/// A seedable pseudo-random generator (xoshiro256**, seeded through SplitMix64), so that the same
/// seed gives bit-identical initial weights, dropout masks and shuffles on every run and platform.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    public mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = state.3 << 45 | state.3 >> 19
        return result
    }

    /// Uniform in `[0, 1)`, with 24 random bits (every value a `Float` can hold exactly).
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// A standard normal sample (Box–Muller).
    public mutating func nextNormal() -> Float {
        let u1 = max(Double(next() >> 11) * 0x1p-53, .leastNonzeroMagnitude)
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float(sqrt(-2 * Foundation.log(u1)) * cos(2 * .pi * u2))
    }
}

extension Tensor {
    /// Samples from `N(mean, standardDeviation²)`.
    public static func randomNormal(shape: [Int], mean: Float = 0, standardDeviation: Float = 1,
                                    generator: inout RandomGenerator) -> Tensor {
        Tensor(validShape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in mean + standardDeviation * generator.nextNormal() })
    }

    /// Samples uniformly from `[low, high)`.
    public static func randomUniform(shape: [Int], low: Float = 0, high: Float = 1,
                                     generator: inout RandomGenerator) -> Tensor {
        Tensor(validShape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in low + (high - low) * generator.nextUniform() })
    }
}
