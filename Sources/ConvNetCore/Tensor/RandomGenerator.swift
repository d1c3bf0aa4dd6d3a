import Foundation

/// A seedable pseudo-random generator (xoshiro256**, seeded through SplitMix64), so that the same
/// seed gives bit-identical initial weights, dropout masks and shuffles on every run and platform.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var words: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose sequence is fixed by `seed`, so runs with the same seed are identical.
    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        words = (next(), next(), next(), next())
    }

    /// The generator's full state, to store in a checkpoint and resume from with `init(state:)`.
    public var state: [UInt64] { [words.0, words.1, words.2, words.3] }

    /// Resumes a generator from `state` (four words, as `state` returns them).
    public init(state words: [UInt64]) throws {
        guard words.count == 4, words.contains(where: { $0 != 0 }) else {
            throw ConvNetError.argument("RandomGenerator: a state is four words, not all zero; got \(words)")
        }
        self.words = (words[0], words[1], words[2], words[3])
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = ((words.1 &* 5) << 7 | (words.1 &* 5) >> 57) &* 9
        let t = words.1 << 17
        words.2 ^= words.0
        words.3 ^= words.1
        words.1 ^= words.2
        words.0 ^= words.3
        words.2 ^= t
        words.3 = words.3 << 45 | words.3 >> 19
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
