/// The training objective, by Keras's names. Targets are integer class labels; the losses that
/// need a target tensor use their one-hot encoding (or, for one sigmoid output, the label as 0/1).
public enum Loss: Sendable, Equatable {
    /// `−log p[y]`, from probabilities (a softmax output) or from logits.
    case sparseCategoricalCrossentropy(fromLogits: Bool = false)
    /// `−Σ t·log p` against one-hot targets, smoothed by `labelSmoothing` `ε` as Keras's
    /// `label_smoothing`: `t = (1 − ε)·onehot(y) + ε / classes`.
    case categoricalCrossentropy(fromLogits: Bool = false, labelSmoothing: Float = 0)
    /// `−mean(t·log p + (1 − t)·log(1 − p))`, for sigmoid outputs.
    case binaryCrossentropy(fromLogits: Bool = false)
    /// `mean((ŷ − t)²)` against one-hot targets.
    case meanSquaredError

    /// The loss that fits a classifier's output layer: binary cross-entropy against one-hot labels
    /// for sigmoid outputs (the lecture notes' SIGNS net ends in 6 sigmoids), else sparse categorical
    /// cross-entropy (softmax outputs, or logits for a linear output).
    public static func matching(_ model: Model) -> Loss {
        switch (model.layers.last as? any ActivatedLayer)?.activation {
        case .sigmoid?: return .binaryCrossentropy()
        case .softmax?: return .sparseCategoricalCrossentropy()
        default: return .sparseCategoricalCrossentropy(fromLogits: true)
        }
    }

    /// Keras's `label_smoothing` `ε` (0 for every loss but categorical cross-entropy).
    public var labelSmoothing: Float {
        if case let .categoricalCrossentropy(_, smoothing) = self { smoothing } else { 0 }
    }

    /// The same loss with `labelSmoothing` `ε`; only categorical cross-entropy has the option.
    /// - Throws: `ConvNetError.argument` for `ε` outside [0, 1], or a nonzero `ε` on another loss.
    public func with(labelSmoothing smoothing: Float) throws -> Loss {
        guard (0...1).contains(smoothing) else {
            throw ConvNetError.argument("loss \(kerasName): label smoothing must be in [0, 1], got \(smoothing)")
        }
        if case let .categoricalCrossentropy(logits, _) = self { return .categoricalCrossentropy(fromLogits: logits, labelSmoothing: smoothing) }
        guard smoothing == 0 else {
            throw ConvNetError.argument("loss \(kerasName): label smoothing needs categorical_crossentropy")
        }
        return self
    }

    /// Keras's name, e.g. `sparse_categorical_crossentropy`.
    public var kerasName: String {
        switch self {
        case .sparseCategoricalCrossentropy: return "sparse_categorical_crossentropy"
        case .categoricalCrossentropy: return "categorical_crossentropy"
        case .binaryCrossentropy: return "binary_crossentropy"
        case .meanSquaredError: return "mean_squared_error"
        }
    }

    /// Whether the loss reads logits rather than probabilities (`from_logits`; false for mean squared error).
    public var fromLogits: Bool {
        switch self {
        case let .sparseCategoricalCrossentropy(logits), let .categoricalCrossentropy(logits, _), let .binaryCrossentropy(logits): logits
        case .meanSquaredError: false
        }
    }

    /// The same loss reading logits or probabilities (mean squared error has no such option).
    func with(fromLogits logits: Bool) -> Loss {
        switch self {
        case .sparseCategoricalCrossentropy: .sparseCategoricalCrossentropy(fromLogits: logits)
        case let .categoricalCrossentropy(_, smoothing): .categoricalCrossentropy(fromLogits: logits, labelSmoothing: smoothing)
        case .binaryCrossentropy: .binaryCrossentropy(fromLogits: logits)
        case .meanSquaredError: .meanSquaredError
        }
    }

    /// The loss Keras calls `name` (`sparse_categorical_crossentropy`, ...) with `from_logits`; a
    /// name `LossRegistry` does not know throws, listing the known ones.
    public init(kerasName name: String, fromLogits: Bool = false) throws {
        self = try LossRegistry.registry.entry(name)(fromLogits)
    }

    /// Whether this loss, applied to a softmax output, equals softmax cross-entropy of the logits;
    /// the training loop then skips the softmax and uses the stable logits form, as Keras does.
    var fusesWithSoftmax: Bool {
        switch self {
        case .sparseCategoricalCrossentropy(false), .categoricalCrossentropy(false, _): return true
        default: return false
        }
    }

    /// Whether this loss, applied to a sigmoid output, can use the logits form.
    var fusesWithSigmoid: Bool { self == .binaryCrossentropy(fromLogits: false) }

    /// The mean loss of a batch. `outputIsLogits` is set when the training loop removed the final
    /// softmax/sigmoid (see `fusesWithSoftmax`).
    func value(_ output: Tensor, labels: [Int], outputIsLogits: Bool = false) throws -> Tensor {
        let output = try output.squeezingUnitSpatialAxes()  // fully convolutional (m, 1, 1, k) → (m, k)
        guard output.rank == 2 else {
            throw ConvNetError.shape(op: "loss \(kerasName)", message: "expected model output (batch, classes), got \(describe(shape: output.shape)); add Flatten or GlobalAveragePooling2D before the output, or end in a convolution that leaves 1x1")
        }
        let classes = output.shape[1]
        func oneHot() throws -> Tensor {
            if let bad = labels.first(where: { !(0..<classes).contains($0) }) {
                throw ConvNetError.argument("loss \(kerasName): label \(bad) is out of range for \(classes) outputs")
            }
            return Tensor(validShape: output.shape, scalars: oneHotScalars(labels, classes: classes))
        }
        switch self {
        case let .sparseCategoricalCrossentropy(fromLogits):
            return fromLogits || outputIsLogits
                ? try softmaxCrossEntropy(logits: output, labels: labels)
                : try categoricalCrossEntropy(probabilities: output, labels: labels)
        case let .categoricalCrossentropy(fromLogits, smoothing):
            guard smoothing != 0 else {
                if fromLogits || outputIsLogits { return try softmaxCrossEntropy(logits: output, oneHotLabels: oneHot()) }
                return try categoricalCrossEntropy(probabilities: output, labels: labels)
            }
            let targets = try smoothedLabels(oneHot(), smoothing: smoothing)
            return fromLogits || outputIsLogits
                ? try softmaxCrossEntropy(logits: output, oneHotLabels: targets)
                : try categoricalCrossEntropy(probabilities: output, targets: targets)
        case let .binaryCrossentropy(fromLogits):
            let targets = classes == 1
                ? Tensor(validShape: output.shape, scalars: labels.map { $0 != 0 ? 1 : 0 })
                : try oneHot()
            return fromLogits || outputIsLogits
                ? try binaryCrossEntropy(logits: output, targets: targets)
                : try binaryCrossEntropy(probabilities: output, targets: targets)
        case .meanSquaredError:
            return try ConvNetCore.meanSquaredError(predictions: output, targets: oneHot())
        }
    }
}

/// How a batch's per-sample losses combine into the one value that is minimised (Keras's
/// `reduction`): their mean (Keras's default `sum_over_batch_size`) or their sum (PyTorch's
/// `reduction='sum'`; with SGD the sum is the mean with an `m` times larger learning rate).
public enum LossReduction: String, Sendable, Equatable, Codable, CaseIterable {
    /// `L = (1/m) Σ_i ℓ_i` (Keras `sum_over_batch_size`).
    case mean = "sum_over_batch_size"
    /// `L = Σ_i ℓ_i` (Keras `sum`).
    case sum

    /// The batch's reduced loss from its mean `L̄` over `m` samples: `L̄` or `m·L̄` (differentiable).
    func reduce(_ mean: Tensor, batchSize m: Int) -> Tensor {
        self == .mean ? mean : mean * Float(m)
    }
}

/// The losses known by Keras name (`sparse_categorical_crossentropy`, ...), which checkpoints read:
/// ConvNet's losses, plus names users register for them. Thread-safe.
public enum LossRegistry {
    /// Makes a loss given `from_logits`.
    public typealias Decoder = @Sendable (_ fromLogits: Bool) -> Loss

    /// One loss of each kind; each is registered under its `kerasName`.
    static let builtIns: [Loss] = [.sparseCategoricalCrossentropy(), .categoricalCrossentropy(), .binaryCrossentropy(), .meanSquaredError]

    static let registry = Registry<Decoder>(kind: "loss", builtIns: builtIns.map { prototype in
        (prototype.kerasName, { prototype.with(fromLogits: $0) })
    })

    /// Makes `name` (e.g. Keras's short `sparse_categorical_ce`) read as the loss `decoder` makes.
    public static func register(name: String, _ decoder: @escaping Decoder) {
        registry.register([name], decoder)
    }

    /// Every registered loss name, ConvNet's first.
    public static var registeredNames: [String] { registry.names }
}
