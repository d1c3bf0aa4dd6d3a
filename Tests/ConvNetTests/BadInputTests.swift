import ConvNet
import Testing

/// Wrong shapes and arguments throw an error naming the op and the shapes; nothing crashes.
@Suite struct BadInputTests {
    /// Runs `body`, expecting a `ConvNetError` whose message contains every one of `fragments`.
    func expectError(_ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected an error mentioning \(fragments)", sourceLocation: sourceLocation)
        } catch let error as ConvNetError {
            for fragment in fragments {
                #expect(error.description.contains(fragment), "\"\(error)\" should mention \"\(fragment)\"", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func convolutionShapes() {
        let x = Tensor(shape: [1, 5, 5, 3])
        expectError(["conv2d", "3 channels", "(3, 3, 2, 4)"]) { _ = try conv2d(x, kernel: Tensor(shape: [3, 3, 2, 4])) }
        expectError(["conv2d", "(5, 5, 3)"]) { _ = try conv2d(Tensor(shape: [5, 5, 3]), kernel: Tensor(shape: [3, 3, 3, 1])) }
        expectError(["conv2d", "bias"]) { _ = try conv2d(x, kernel: Tensor(shape: [3, 3, 3, 4]), bias: Tensor(shape: [3])) }
        expectError(["conv2d", "window 7 is larger than the padded input 5"]) { _ = try conv2d(x, kernel: Tensor(shape: [7, 7, 3, 1])) }
        expectError(["conv2d", "zero-sized"]) { _ = try conv2d(Tensor(shape: [0, 5, 5, 3]), kernel: Tensor(shape: [3, 3, 3, 1])) }
        expectError(["conv2d", "strides"]) { _ = try conv2d(x, kernel: Tensor(shape: [3, 3, 3, 1]), strides: (0, 1)) }
        expectError(["conv2d", "negative"]) { _ = try conv2d(x, kernel: Tensor(shape: [3, 3, 3, 1]), padding: .uniform(-1)) }
        // A kernel larger than the input is fine once the padding makes room.
        #expect((try? conv2d(x, kernel: Tensor(shape: [7, 7, 3, 1]), padding: .same))?.shape == [1, 5, 5, 1])
    }

    @Test func poolingShapes() {
        expectError(["maxPool2d", "larger than the padded input"]) { _ = try maxPool2d(Tensor(shape: [1, 2, 2, 1]), size: (3, 3)) }
        expectError(["avgPool2d", "(2, 2)"]) { _ = try avgPool2d(Tensor(shape: [2, 2]), size: (2, 2)) }
        expectError(["maxPool2d", "zero-sized"]) { _ = try maxPool2d(Tensor(shape: [1, 0, 4, 1])) }
        expectError(["maxPool2d", "smaller than the window"]) {
            _ = try maxPool2d(Tensor(shape: [1, 4, 4, 1]), size: (2, 2), padding: .uniform(2))
        }
        expectError(["globalAvgPool2d", "rank-4"]) { _ = try globalAvgPool2d(Tensor(shape: [3, 4])) }
    }

    @Test func denseAndLossShapes() {
        expectError(["dense", "4 features", "(5, 3)"]) { _ = try dense(Tensor(shape: [2, 4]), kernel: Tensor(shape: [5, 3])) }
        expectError(["dense", "bias"]) { _ = try dense(Tensor(shape: [2, 4]), kernel: Tensor(shape: [4, 3]), bias: Tensor(shape: [4])) }
        expectError(["softmaxCrossEntropy", "need 2 labels, got 3"]) { _ = try softmaxCrossEntropy(logits: Tensor(shape: [2, 3]), labels: [0, 1, 2]) }
        expectError(["softmaxCrossEntropy", "label 7", "3 classes"]) { _ = try softmaxCrossEntropy(logits: Tensor(shape: [1, 3]), labels: [7]) }
        expectError(["meanSquaredError", "(2, 3)", "(3, 2)"]) {
            _ = try meanSquaredError(predictions: Tensor(shape: [2, 3]), targets: Tensor(shape: [3, 2]))
        }
        expectError(["add", "broadcast", "(2, 3)", "(2,)"]) { _ = try Tensor(shape: [2, 3]) + Tensor(shape: [2]) }
    }

    @Test func otherOps() {
        expectError(["Tensor", "needs 6 scalars, got 5"]) { _ = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5]) }
        expectError(["reshape", "(2, 3)", "(4, -1)"]) { _ = try Tensor(shape: [2, 3]).reshaped(to: [4, -1]) }
        expectError(["dropout", "1.5"]) {
            var generator = RandomGenerator(seed: 1)
            _ = try dropout(Tensor(shape: [2]), rate: 1.5, generator: &generator)
        }
        expectError(["batchNormalization", "gamma"]) {
            _ = try batchNormTraining(Tensor(shape: [2, 3]), gamma: Tensor(shape: [2]), beta: Tensor(shape: [3]))
        }
        expectError(["concatenate", "differ"]) { _ = try concatenate([Tensor(shape: [2, 3]), Tensor(shape: [3, 3])]) }
        expectError(["zeroPad2d", "rank-4"]) { _ = try zeroPad2d(Tensor(shape: [2, 3]), top: 1, bottom: 1, left: 1, right: 1) }
    }

    @Test func gradientOfUnwatchedTarget() {
        let tape = GradientTape()
        expectError(["GradientTape", "not computed from a tensor watched by this tape"]) {
            _ = try tape.gradient(of: Tensor(1), withRespectTo: [])
        }
    }
}
