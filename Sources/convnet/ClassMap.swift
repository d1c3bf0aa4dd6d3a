import ConvNet

/// What a fully convolutional classifier (the lecture notes' 1x1-convolution net, `fmnist-fcn`) says about
/// an image larger than the ones it was trained on: its output `(1, h, w, k)` holds a class
/// distribution for each of `h·w` input windows (each the size of a training image, at the net's
/// total stride), and the map shows the most likely class of each.
struct ClassMap {
    /// The most likely class at each position, row-major, `rows × columns`.
    let classes: [Int]
    /// Its probability at each position.
    let probabilities: [Float]
    let rows: Int
    let columns: Int

    /// The map of a `(1, h, w, k)` output, or nil for an output with one position (`(1, k)`, `(1, 1, 1, k)`).
    init?(output: Tensor) {
        guard output.rank == 4, output.shape[0] == 1, output.shape[1] * output.shape[2] > 1 else { return nil }
        (rows, columns) = (output.shape[1], output.shape[2])
        let k = output.shape[3]
        var classes: [Int] = [], probabilities: [Float] = []
        for position in 0..<rows * columns {
            let scores = output.scalars[position * k..<(position + 1) * k]
            let best = scores.indices.max { scores[$0] < scores[$1] } ?? position * k
            classes.append(best - position * k)
            probabilities.append(scores[best])
        }
        self.classes = classes
        self.probabilities = probabilities
    }

    /// The map as text: one line per row, each position's class label padded to a common width.
    func text(label: (Int) -> String) -> String {
        let width = Set(classes).map { label($0).count }.max() ?? 1
        return (0..<rows).map { row in
            (0..<columns).map { label(classes[row * columns + $0]).padding(toLength: width, withPad: " ", startingAt: 0) }
                .joined(separator: " ")
        }.joined(separator: "\n")
    }
}
