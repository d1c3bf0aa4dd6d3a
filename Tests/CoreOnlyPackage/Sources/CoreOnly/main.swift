import ConvNetCore

// A small CNN learns to tell vertical from horizontal bars, with nothing but the core module.
var generator = RandomGenerator(seed: 7)
let size = 8, count = 64
var pixels = [Float](repeating: 0, count: count * size * size)
var labels: [Int] = []
for image in 0..<count {
    let label = image % 2, position = Int(generator.next() % UInt64(size))
    for t in 0..<size {
        let (row, column) = label == 0 ? (t, position) : (position, t)
        pixels[(image * size + row) * size + column] = 1
    }
    labels.append(label)
}
let images = try Tensor(shape: [count, size, size, 1], scalars: pixels)

var model = try Model(inputShape: [size, size, 1]) {
    Conv2D(4, kernelSize: 3, padding: .same, activation: .relu)
    MaxPooling2D(poolSize: 2)
    Flatten()
    Dense(2, activation: .softmax)
}
model.compile(optimizer: Adam(learningRate: 0.01), loss: .sparseCategoricalCrossentropy(), metrics: [.accuracy])
let history = try model.fit(x: images, y: labels, epochs: 20, batchSize: 16, verbosity: .silent)
let losses = history.epochs.compactMap { $0["loss"] }
print("loss \(losses.first ?? .nan) -> \(losses.last ?? .nan), accuracy \(history.epochs.last?["accuracy"] ?? .nan)")
guard let first = losses.first, let last = losses.last, last < first / 2 else {
    fatalError("the loss did not fall")
}
