import ConvNet
import Foundation
import Testing

/// Each optimizer against steps computed by hand from deck 001's formulas
/// (`fixtures/seed_examples.json`, "optimizers"), for w = [1, −2], dW = [0.5, −0.25] then [0.1, 0.2].
@Suite struct OptimizerTests {
    static let gradients: [[Float]] = [[0.5, -0.25], [0.1, 0.2]]

    /// Runs two updates and returns the weights after each.
    func run(_ optimizer: any Optimizer) throws -> [[Float]] {
        var optimizer = optimizer
        var weights = [Tensor([1, -2])]
        var trace: [[Float]] = []
        for g in Self.gradients {
            try optimizer.update(&weights, gradients: [Tensor(g)])
            trace.append(weights[0].scalars)
        }
        #expect(optimizer.step == 2)
        return trace
    }

    /// The same two steps computed in Double from the formulas, element by element.
    func expected(_ update: (_ w: inout Double, _ g: Double, _ state: inout [Double], _ t: Int) -> Void) -> [[Float]] {
        var w: [Double] = [1, -2]
        var state: [[Double]] = [[0, 0], [0, 0]]
        var trace: [[Float]] = []
        for (t, g) in Self.gradients.enumerated() {
            for i in 0..<2 { update(&w[i], Double(g[i]), &state[i], t + 1) }
            trace.append(w.map { Float($0) })
        }
        return trace
    }

    func expectClose(_ actual: [[Float]], _ wanted: [[Float]], sourceLocation: SourceLocation = #_sourceLocation) {
        for (a, b) in zip(actual, wanted) {
            #expect(allClose(a, b, absolute: 1e-6, relative: 1e-5), "\(a) vs \(b)", sourceLocation: sourceLocation)
        }
    }

    @Test func formulasMatchTheDeck() throws {
        let example = try #require(try Fixtures.seedExamples()["optimizers"] as? [String: Any])
        let defaults = try #require(example["adam_defaults"] as? [String: Double])
        let adam = Adam()
        #expect(adam.beta1 == defaults["beta1"].map { Float($0) })
        #expect(adam.beta2 == defaults["beta2"].map { Float($0) })
        #expect(adam.epsilon == defaults["epsilon"].map { Float($0) })
        #expect(example["adam"] as? String == "V = b1*V+(1-b1)*dW; S = b2*S+(1-b2)*dW^2; Vc = V/(1-b1^t); Sc = S/(1-b2^t); W -= lr*Vc/sqrt(Sc+eps)")
        #expect(example["rmsprop"] as? String == "S = beta2*S + (1-beta2)*dW^2; W -= lr*dW/sqrt(S+eps)")
        #expect(example["adagrad"] as? String == "v += dW^2; W -= lr*dW/(sqrt(v)+eps)")
        #expect(example["momentum_ema"] as? String == "v = beta*v + (1-beta)*dW; W -= lr*v")
        #expect(example["momentum_classic"] as? String == "v = beta*v - lr*dW; W += v")
    }

    @Test func sgd() throws {
        expectClose(try run(SGD(learningRate: 0.1)), expected { w, g, _, _ in w -= 0.1 * g })
    }

    @Test func momentumForms() throws {
        expectClose(try run(Momentum(learningRate: 0.1, beta: 0.9, form: .exponentialAverage)), expected { w, g, s, _ in
            s[0] = 0.9 * s[0] + 0.1 * g; w -= 0.1 * s[0]
        })
        expectClose(try run(Momentum(learningRate: 0.1, beta: 0.9, form: .classic)), expected { w, g, s, _ in
            s[0] = 0.9 * s[0] - 0.1 * g; w += s[0]
        })
        expectClose(try run(Momentum(learningRate: 0.1, beta: 0.9, form: .nesterov)), expected { w, g, s, _ in
            s[0] = 0.9 * s[0] - 0.1 * g; w += 0.9 * s[0] - 0.1 * g
        })
    }

    @Test func adagradAndRMSprop() throws {
        expectClose(try run(Adagrad(learningRate: 0.1, epsilon: 1e-8)), expected { w, g, s, _ in
            s[0] += g * g; w -= 0.1 * g / (s[0].squareRoot() + 1e-8)
        })
        expectClose(try run(RMSprop(learningRate: 0.01, rho: 0.9, epsilon: 1e-8)), expected { w, g, s, _ in
            s[0] = 0.9 * s[0] + 0.1 * g * g; w -= 0.01 * g / (s[0] + 1e-8).squareRoot()
        })
    }

    @Test func adamWithBiasCorrectionAndAdamW() throws {
        for decay in [0.0, 0.01] {
            expectClose(try run(Adam(learningRate: 0.01, weightDecay: Float(decay))), expected { w, g, s, t in
                s[0] = 0.9 * s[0] + 0.1 * g
                s[1] = 0.999 * s[1] + 0.001 * g * g
                let vHat = s[0] / (1 - pow(0.9, Double(t))), sHat = s[1] / (1 - pow(0.999, Double(t)))
                w -= 0.01 * vHat / (sHat + 1e-8).squareRoot() + 0.01 * decay * w
            })
        }
        // Bias correction makes Adam's first step ≈ lr · sign(dW).
        var adam = Adam(learningRate: 0.01)
        var weights = [Tensor([0, 0])]
        try adam.update(&weights, gradients: [Tensor([3, -0.001])])
        #expect(allClose(weights[0].scalars, [-0.01, 0.01], absolute: 1e-4, relative: 0))
    }

    @Test func mismatchedGradientsThrow() {
        var sgd = SGD()
        var weights = [Tensor([1, 2])]
        #expect(throws: ConvNetError.self) { try sgd.update(&weights, gradients: [Tensor([1, 2, 3])]) }
    }
}

@Suite struct LearningRateScheduleTests {
    /// Deck 001's decay formulas with epoch_num counted from 1; e.g. α₀ = 0.2, k = 1 gives 0.1, 0.0667.
    @Test func deckFormulas() {
        let a0: Float = 0.2
        #expect(LearningRateSchedule.inverseTime(k: 1).rate(at: 1, initial: a0) == 0.1)
        #expect(abs(LearningRateSchedule.inverseTime(k: 1).rate(at: 2, initial: a0) - 0.2 / 3) < 1e-7)
        #expect(abs(LearningRateSchedule.inverseSqrt(k: 0.5).rate(at: 4, initial: a0) - 0.05) < 1e-7)
        #expect(abs(LearningRateSchedule.exponential(k: 0.1).rate(at: 3, initial: a0) - 0.2 * Float(exp(-0.3))) < 1e-7)
        #expect(abs(LearningRateSchedule.power(k: 0.95).rate(at: 2, initial: a0) - 0.2 * 0.95 * 0.95) < 1e-7)
        let staircase = (1...7).map { LearningRateSchedule.staircase(k: 0.5, every: 3).rate(at: $0, initial: 0.8) }
        #expect(staircase == [0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2])
        let piecewise = (1...5).map { LearningRateSchedule.piecewise(boundaries: [2, 4], values: [1, 0.5, 0.1]).rate(at: $0, initial: 9) }
        #expect(piecewise == [1, 1, 0.5, 0.5, 0.1])
        let cosine = LearningRateSchedule.cosine(total: 4)
        #expect(cosine.rate(at: 1, initial: 1) == 1)
        #expect(abs(cosine.rate(at: 3, initial: 1) - 0.5) < 1e-6)
        #expect(LearningRateSchedule.constant.rate(at: 10, initial: a0) == a0)
    }

    @Test func parsesCommandLineForms() throws {
        #expect(try LearningRateSchedule(parsing: "inverse-time:0.5", epochs: 5) == .inverseTime(k: 0.5))
        #expect(try LearningRateSchedule(parsing: "step:0.5:10", epochs: 5) == .staircase(k: 0.5, every: 10))
        #expect(try LearningRateSchedule(parsing: "cosine", epochs: 5) == .cosine(total: 5))
        #expect(try LearningRateSchedule(parsing: "piecewise:2,4:1,0.5,0.1", epochs: 5) == .piecewise(boundaries: [2, 4], values: [1, 0.5, 0.1]))
        #expect(throws: ConvNetError.self) { try LearningRateSchedule(parsing: "sometimes", epochs: 5) }
        #expect(throws: ConvNetError.self) { try LearningRateSchedule(parsing: "exponential:x", epochs: 5) }
    }
}
