/// Test-time augmentation: the model's outputs on several views of each image, averaged with
/// weights that sum to 1 (Jordan's airbench, arXiv 2404.00498). With the final softmax removed,
/// as `evaluate` does, the logits are averaged; `predict` averages whatever the model outputs.
///
/// Views of an image `x` (`flip` mirrors left–right; `shift(d)` moves the image `d` pixels down
/// and right, filling the uncovered row and column with the mirrored image, `FillMode.mirror`):
///
/// - `none`: `x` (weight 1).
/// - `flip`: `x` and `flip(x)`, ½ each.
/// - `flipTranslate`: `x` and `flip(x)`, ¼ each; `shift(1)(x)`, `shift(−1)(x)` and their mirrors,
///   ⅛ each (airbench's level 2: a mirror half the time, a one-pixel shift up-left or
///   down-right half the time).
public enum TestTimeAugmentation: String, Sendable, Equatable, CaseIterable {
    /// The image alone.
    case none
    /// The image and its mirror image.
    case flip
    /// The image, one-pixel shifts up-left and down-right, and the mirror of each (six views).
    case flipTranslate = "flip-translate"

    /// The views of a batch `(m, h, w, c)` with their weights (summing to 1).
    /// - Throws: `ConvNetError.shape` unless `inputs` are images `(m, h, w, c)`.
    public func views(of inputs: Tensor) throws -> [(inputs: Tensor, weight: Float)] {
        guard inputs.rank == 4 else {
            throw ConvNetError.shape(op: "test-time augmentation", message: "expected images (m, h, w, c), got \(describe(shape: inputs.shape))")
        }
        switch self {
        case .none:
            return [(inputs, 1)]
        case .flip:
            return [(inputs, 0.5), (try inputs.flippedHorizontally(), 0.5)]
        case .flipTranslate:
            let downRight = try inputs.translated(down: 1, right: 1, fill: .mirror)
            let upLeft = try inputs.translated(down: -1, right: -1, fill: .mirror)
            return [(inputs, 0.25), (try inputs.flippedHorizontally(), 0.25),
                    (downRight, 0.125), (try downRight.flippedHorizontally(), 0.125),
                    (upLeft, 0.125), (try upLeft.flippedHorizontally(), 0.125)]
        }
    }

    /// `Σ_v weight_v · model(view_v)` for a batch, in inference mode.
    /// `.none` is the plain forward pass, for inputs of any rank.
    func averagedOutput(of model: inout Model, _ inputs: Tensor, context: inout ForwardContext) throws -> Tensor {
        if self == .none { return try model.forward(inputs.detached, context: &context).output }
        var total: Tensor?
        for view in try views(of: inputs) {
            let output = try model.forward(view.inputs.detached, context: &context).output.detached
            let weighted = Tensor(validShape: output.shape, scalars: output.scalars.map { $0 * view.weight })
            total = try total.map { try $0 + weighted } ?? weighted
        }
        guard let total else { throw ConvNetError.argument("test-time augmentation: no views") }
        return total.detached
    }

    /// Parses the command line's `none`, `flip` or `flip-translate`.
    /// - Throws: `ConvNetError.argument` naming `--tta` and the known values.
    public init(parsing text: String) throws {
        guard let value = TestTimeAugmentation(rawValue: text) else {
            throw ConvNetError.argument("--tta \(text): expected \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = value
    }
}

extension Model {
    /// Inference on one batch `(m, h, w, c)` averaged over the views of `testTimeAugmentation`
    /// (see `TestTimeAugmentation`); `.none` is `predict(_:)`.
    public func predict(_ input: Tensor, testTimeAugmentation: TestTimeAugmentation) throws -> Tensor {
        if testTimeAugmentation == .none { return try predict(input) }
        var copy = self
        var context = ForwardContext(training: false)
        try copy.checkInput(input)
        return try testTimeAugmentation.averagedOutput(of: &copy, input, context: &context)
    }
}
