import ArgumentParser
import ConvNet
import Foundation

/// Trains a tiny CNN on synthetic images (vertical versus horizontal bars) with the core ops and
/// the gradient tape, printing the loss as it falls.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train a tiny CNN on synthetic bar images and print the loss falling.")

    @Option(help: "Training steps.") var steps = 60
    @Option(help: "Learning rate for plain gradient descent.") var lr: Float = 0.1
    @Option(help: "Random seed.") var seed: UInt64 = 1

    func run() throws {
        guard steps > 0 else { throw ValidationError("--steps must be positive, got \(steps)") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be positive, got \(lr)") }
        var generator = RandomGenerator(seed: seed)
        let (images, labels) = SyntheticBars.make(count: 64, size: 12, generator: &generator)
        // conv 4@3x3 relu -> max pool 2 -> flatten -> dense 2 (logits)
        var kernel = Tensor.randomNormal(shape: [3, 3, 1, 4], standardDeviation: 0.5, generator: &generator)
        var bias = Tensor(shape: [4])
        var weights = Tensor.randomNormal(shape: [5 * 5 * 4, 2], standardDeviation: 0.1, generator: &generator)
        var offset = Tensor(shape: [2])
        print("Training conv(4@3x3) -> maxpool -> dense(2) on 64 synthetic 12x12 images, GEMM: \(GEMM.backendDescription)")
        for step in 1...steps {
            let tape = GradientTape()
            let parameters = [kernel, bias, weights, offset].map(tape.watch)
            let features = try maxPool2d(relu(conv2d(images, kernel: parameters[0], bias: parameters[1])))
            let logits = try dense(flatten(features), kernel: parameters[2], bias: parameters[3])
            let loss = try softmaxCrossEntropy(logits: logits, labels: labels)
            let gradients = try tape.gradient(of: loss, withRespectTo: parameters)
            kernel = try kernel - gradients[0] * lr
            bias = try bias - gradients[1] * lr
            weights = try weights - gradients[2] * lr
            offset = try offset - gradients[3] * lr
            if step == 1 || step % 10 == 0 || step == steps {
                let predictions = (0..<labels.count).map { logits.scalars[2 * $0] > logits.scalars[2 * $0 + 1] ? 0 : 1 }
                let accuracy = Double(zip(predictions, labels).filter { $0 == $1 }.count) / Double(labels.count)
                print(String(format: "step %3d  loss %.4f  accuracy %.3f", step, loss.scalar ?? .nan, accuracy))
            }
        }
    }
}

/// 12x12 images with one bright vertical (label 0) or horizontal (label 1) bar at a random place.
enum SyntheticBars {
    static func make(count: Int, size: Int, generator: inout RandomGenerator) -> (Tensor, [Int]) {
        var scalars = [Float](repeating: 0, count: count * size * size)
        var labels: [Int] = []
        for i in 0..<count {
            let label = i % 2, position = Int(generator.next() % UInt64(size))
            for t in 0..<size {
                let (y, x) = label == 0 ? (t, position) : (position, t)
                scalars[(i * size + y) * size + x] = 1
            }
            labels.append(label)
        }
        // The shape is consistent with the scalars by construction.
        return ((try? Tensor(shape: [count, size, size, 1], scalars: scalars)) ?? Tensor(shape: [0]), labels)
    }
}
