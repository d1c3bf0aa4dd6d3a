import ConvNet
import Testing

/// Finite-difference gradient checking.
///
/// The checked scalar is `L = Σ f(x) ⊙ R` with a fixed random `R`, so every output element carries
/// a different weight and a wrong index in a backward pass cannot cancel out. The numerical
/// gradient is the central difference `(L(x + h) − L(x − h)) / 2h` with the sums taken in Double.
/// Ops are Float, so `h` is 1e-2 and the tolerance is `atol + rtol · max(|analytic|, |numeric|)`.
enum GradientCheck {
    static func check(_ inputs: [Tensor], step h: Float = 1e-2, absolute: Float = 2e-3, relative: Float = 2e-2,
                      maxProbes: Int = 48, sourceLocation: SourceLocation = #_sourceLocation,
                      _ f: ([Tensor]) throws -> Tensor) throws {
        let probe = try f(inputs)
        var generator = RandomGenerator(seed: 99)
        let weights = Tensor.randomUniform(shape: probe.shape, low: -1, high: 1, generator: &generator)
        func objective(_ xs: [Tensor]) throws -> Double {
            let y = try f(xs)
            return zip(y.scalars, weights.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }

        let tape = GradientTape()
        let watched = inputs.map(tape.watch)
        let loss = try (f(watched) * weights).sum()
        let analytic = try tape.gradient(of: loss, withRespectTo: watched)

        for (index, input) in inputs.enumerated() {
            #expect(analytic[index].shape == input.shape, "gradient shape of input \(index)", sourceLocation: sourceLocation)
            // Probe every element of small inputs, an even spread of larger ones.
            let stride = max(1, input.count / maxProbes)
            for element in Swift.stride(from: 0, to: input.count, by: stride) {
                var plus = inputs, minus = inputs
                plus[index].scalars[element] += h
                minus[index].scalars[element] -= h
                let numeric = Float((try objective(plus) - objective(minus)) / Double(2 * h))
                let exact = analytic[index].scalars[element]
                let ok = abs(exact - numeric) <= absolute + relative * max(abs(exact), abs(numeric))
                #expect(ok, "input \(index) \(describe(shape: input.shape)) element \(element): analytic \(exact), numeric \(numeric)",
                        sourceLocation: sourceLocation)
                if !ok { return }
            }
        }
    }

    /// Values spaced `gap` apart in random order: no ties, and no two within the finite-difference
    /// step of each other, so max pooling's choice and ReLU's sign are stable under the probe.
    static func distinctValues(shape: [Int], gap: Float = 0.05, seed: UInt64) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        let count = shape.reduce(1, *)
        var values = (0..<count).map { (Float($0) - Float(count) / 2) * gap + gap / 2 }
        values.shuffle(using: &generator)
        return (try? Tensor(shape: shape, scalars: values)) ?? Tensor(shape: shape)
    }

    static func random(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor.randomUniform(shape: shape, low: low, high: high, generator: &generator)
    }
}
