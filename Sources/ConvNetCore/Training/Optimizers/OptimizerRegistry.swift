/// An optimizer that checkpoints and the command line can recreate by name: its settings as
/// numbers (`hyperparameters`, Keras's names where Keras has them) and back. Register your own with
/// `OptimizerRegistry.register(MyOptimizer())` before loading a checkpoint that uses it.
public protocol RegisteredOptimizer: Optimizer {
    /// Every setting needed to recreate this optimizer, including `learning_rate` (not its state:
    /// the step count and slots are saved separately).
    var hyperparameters: [String: Float] { get }
    /// The optimizer registered as `kerasName` with `hyperparameters`; absent keys take the
    /// optimizer's defaults. Keys it does not know are rejected by the registry.
    init(kerasName: String, hyperparameters: [String: Float]) throws
}

/// The optimizers known by name (`adam`, `sgd`, ...): ConvNet's own and those users register.
/// Checkpoints and the command line's `--optimizer` read it; an unknown name throws, listing the
/// known ones. Thread-safe.
public enum OptimizerRegistry {
    typealias Decoder = @Sendable (String, [String: Float]) throws -> any RegisteredOptimizer

    /// ConvNet's optimizers, one instance per name (`kerasName`) with its defaults.
    static let builtIns: [any RegisteredOptimizer] = [SGD(), Momentum(), Momentum(form: .nesterov), Adagrad(), RMSprop(),
                                                      Adam(), Adam.adamW()]

    static let registry = Registry<Decoder>(kind: "optimizer", builtIns: builtIns.map { entry(for: $0) })

    private static func entry<O: RegisteredOptimizer>(for prototype: O) -> (name: String, entry: Decoder) {
        (prototype.kerasName, { name, values in try O(kerasName: name, hyperparameters: values) })
    }

    /// Registers the type of `prototype` under `prototype.kerasName` (replacing an earlier
    /// registration of that name); register one instance per name a type uses.
    public static func register(_ prototype: some RegisteredOptimizer) {
        let (name, decode) = entry(for: prototype)
        registry.register([name], decode)
    }

    /// Every registered optimizer name, ConvNet's first.
    public static var registeredNames: [String] { registry.names }

    /// The optimizer registered as `name` with `hyperparameters` (the optimizer's defaults for
    /// absent keys); an unknown name, or a key the optimizer does not have, throws.
    public static func optimizer(named name: String, hyperparameters: [String: Float] = [:]) throws -> any RegisteredOptimizer {
        let optimizer = try registry.entry(name)(name, hyperparameters)
        if let extra = hyperparameters.keys.sorted().first(where: { optimizer.hyperparameters[$0] == nil }) {
            throw ConvNetError.argument("optimizer '\(name)' has no hyperparameter '\(extra)'; it has \(optimizer.hyperparameters.keys.sorted().joined(separator: ", "))")
        }
        return optimizer
    }

    /// The name and hyperparameters that recreate `optimizer`; throws when its type is not a
    /// registered `RegisteredOptimizer` (its settings could not be read back).
    public static func configuration(of optimizer: any Optimizer) throws -> (name: String, hyperparameters: [String: Float]) {
        guard let registered = optimizer as? any RegisteredOptimizer else {
            throw ConvNetError.argument("optimizer '\(optimizer.kerasName)': \(type(of: optimizer)) does not conform to RegisteredOptimizer, so its settings cannot be saved")
        }
        guard registry.entryIfKnown(optimizer.kerasName) != nil else {
            throw ConvNetError.argument("optimizer '\(optimizer.kerasName)' is not registered; call OptimizerRegistry.register(\(type(of: optimizer))(...))")
        }
        return (optimizer.kerasName, registered.hyperparameters)
    }
}

extension SGD: RegisteredOptimizer {
    /// `learning_rate`.
    public var hyperparameters: [String: Float] { ["learning_rate": learningRate] }
    /// SGD with `learning_rate` (default 0.01).
    public init(kerasName: String, hyperparameters h: [String: Float]) throws {
        self.init(learningRate: h["learning_rate"] ?? SGD().learningRate)
    }
}

extension Momentum: RegisteredOptimizer {
    /// `learning_rate`, `beta` and `classic` (1 for the classic form; the Nesterov form has its own name).
    public var hyperparameters: [String: Float] {
        ["learning_rate": learningRate, "beta": beta, "classic": form == .classic ? 1 : 0]
    }
    /// Momentum in the Nesterov form when `kerasName` is the Nesterov form's name, else the
    /// classic form when `classic` is 1, else the exponential average.
    public init(kerasName: String, hyperparameters h: [String: Float]) throws {
        let defaults = Momentum()
        let form: Form = kerasName == Momentum(form: .nesterov).kerasName ? .nesterov
            : h["classic"] == 1 ? .classic : .exponentialAverage
        self.init(learningRate: h["learning_rate"] ?? defaults.learningRate, beta: h["beta"] ?? defaults.beta, form: form)
    }
}

extension Adagrad: RegisteredOptimizer {
    /// `learning_rate` and `epsilon`.
    public var hyperparameters: [String: Float] { ["learning_rate": learningRate, "epsilon": epsilon] }
    /// Adagrad with `learning_rate` and `epsilon`.
    public init(kerasName: String, hyperparameters h: [String: Float]) throws {
        let defaults = Adagrad()
        self.init(learningRate: h["learning_rate"] ?? defaults.learningRate, epsilon: h["epsilon"] ?? defaults.epsilon)
    }
}

extension RMSprop: RegisteredOptimizer {
    /// `learning_rate`, `rho` and `epsilon`.
    public var hyperparameters: [String: Float] { ["learning_rate": learningRate, "rho": rho, "epsilon": epsilon] }
    /// RMSprop with `learning_rate`, `rho` and `epsilon`.
    public init(kerasName: String, hyperparameters h: [String: Float]) throws {
        let defaults = RMSprop()
        self.init(learningRate: h["learning_rate"] ?? defaults.learningRate, rho: h["rho"] ?? defaults.rho,
                  epsilon: h["epsilon"] ?? defaults.epsilon)
    }
}

extension Adam: RegisteredOptimizer {
    /// `learning_rate`, `beta_1`, `beta_2`, `epsilon` and `weight_decay`.
    public var hyperparameters: [String: Float] {
        ["learning_rate": learningRate, "beta_1": beta1, "beta_2": beta2, "epsilon": epsilon, "weight_decay": weightDecay]
    }
    /// Adam, or AdamW under AdamW's name (whose `weight_decay` defaults to Keras's 0.004).
    public init(kerasName: String, hyperparameters h: [String: Float]) throws {
        let defaults = kerasName == Adam.adamW().kerasName ? Adam.adamW() : Adam()
        self.init(learningRate: h["learning_rate"] ?? defaults.learningRate, beta1: h["beta_1"] ?? defaults.beta1,
                  beta2: h["beta_2"] ?? defaults.beta2, epsilon: h["epsilon"] ?? defaults.epsilon,
                  weightDecay: h["weight_decay"] ?? defaults.weightDecay)
    }
}
