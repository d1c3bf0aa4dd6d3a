import ConvNet
import Testing

@Suite struct GradientTapeTests {
    /// A tensor used by several ops accumulates the gradients of all of them: d/dx (x·x + 3x) = 2x + 3.
    @Test func accumulatesOverSeveralUses() throws {
        let tape = GradientTape()
        let x = tape.watch(Tensor([1, -2, 0.5]))
        let y = try (x * x + x * 3).sum()
        #expect(try tape.gradient(of: y, withRespectTo: [x])[0].scalars == [5, -1, 4])
    }

    /// Sources the target does not depend on get zeros; tensors not on the tape are constants.
    @Test func unrelatedSourcesAndConstants() throws {
        let tape = GradientTape()
        let x = tape.watch(Tensor([2, 3])), unused = tape.watch(Tensor([1, 1, 1]))
        let constant = Tensor([10, 20])
        let y = try (x * constant).sum()
        let gradients = try tape.gradient(of: y, withRespectTo: [x, unused])
        #expect(gradients[0].scalars == [10, 20])
        #expect(gradients[1].scalars == [0, 0, 0])
    }

    /// A non-scalar target is differentiated as the sum of its elements, as in TensorFlow.
    @Test func nonScalarTarget() throws {
        let tape = GradientTape()
        let x = tape.watch(Tensor([1, 2, 3]))
        #expect(try tape.gradient(of: x * 2, withRespectTo: [x])[0].scalars == [2, 2, 2])
    }

    /// Without a tape, ops record nothing: the result carries no tape and asking a tape fails.
    @Test func inferenceRecordsNothing() throws {
        let x = Tensor([1, 2]), tape = GradientTape()
        let y = relu(x * 2)
        #expect(throws: ConvNetError.self) { try tape.gradient(of: y, withRespectTo: [x]) }
    }

    /// `detached` stops gradients.
    @Test func detachedStopsGradients() throws {
        let tape = GradientTape()
        let x = tape.watch(Tensor([3]))
        let y = try x * x.detached
        #expect(try tape.gradient(of: y, withRespectTo: [x])[0].scalars == [3])
    }

    /// Recorded tensors refer to their tape weakly: once its owner lets a tape go, the tape and the
    /// activations its backward closures hold are freed (a strong reference leaked them every step).
    @Test func tapeIsReleasedWithItsActivations() throws {
        weak var released: GradientTape?
        do {
            let tape = GradientTape()
            released = tape
            let x = tape.watch(Tensor([1, 2, 3]))
            let y = try (relu(x * 2) * x).sum()
            _ = try tape.gradient(of: y, withRespectTo: [x])
        }
        #expect(released == nil)
    }
}
