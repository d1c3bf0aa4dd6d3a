import ArgumentParser
import ConvNet
import Foundation

/// The lecture notes' knobs that `train` (and `finetune`, `sweep`) pass to the library as they are:
/// the optimizers' hyper-parameters (the lecture notes' β1, β2, ε, ρ and the two momentum forms), the
/// kernel initializer of a zoo model, early stopping and reducing the learning rate on a plateau.
struct TuningOptions: ParsableArguments {
    @Option(help: "Adam/AdamW β1, the first-moment decay (lecture notes: 0.9).") var beta1: Float?
    @Option(help: "Adam/AdamW β2, the second-moment decay (lecture notes: 0.999).") var beta2: Float?
    @Option(help: "ε of Adam, AdamW, RMSprop and Adagrad (lecture notes: 1e-8).") var epsilon: Float?
    @Option(help: "RMSprop ρ, the squared-gradient decay (the lecture notes' β2; default 0.9).") var rho: Float?
    @Option(help: ArgumentHelp("With --optimizer momentum: average (the lecture notes' v = β·v + (1 − β)·dW, W −= α·v; the default) or classic (v = β·v − α·dW, W += v; Keras SGD(momentum=β)).", valueName: "average|classic"))
    var momentumForm: String?
    @Option(help: ArgumentHelp("Initializer of every Conv2D and Dense kernel of a zoo model, by Keras name: he-normal, he-uniform, glorot-uniform (Xavier, the default), glorot-normal, lecun-normal, lecun-uniform, random-normal, ...", valueName: "name"))
    var kernelInitializer: String?
    @Option(help: ArgumentHelp("Stop when the validation loss (the training loss without validation data) has not improved for this many epochs, and keep the best epoch's weights (Keras EarlyStopping(patience=N, restore_best_weights=True)).", valueName: "patience"))
    var earlyStopping: Int?
    @Flag(help: "Multiply the learning rate by --plateau-factor when the validation loss (else the training loss) has not improved for --plateau-patience epochs (Keras ReduceLROnPlateau).")
    var reduceLrOnPlateau = false
    @Option(help: ArgumentHelp("Build a zoo model for this many input channels (1 gray, 3 colour) instead of the data's; the images are converted to match (default: a zoo model takes the data's channels, e.g. LeNet-5 on CIFAR-10 in colour).", valueName: "1|3"))
    var channels: Int?
    @Option(help: "With --reduce-lr-on-plateau: the factor (Keras default 0.1).") var plateauFactor: Float = 0.1
    @Option(help: "With --reduce-lr-on-plateau: epochs without improvement tolerated (Keras default 10).") var plateauPatience = 10

    /// The optimizer hyper-parameters these flags set, by the registry's names, with the flag that set each.
    private var givenHyperparameters: [(flag: String, key: String, value: Float)] {
        var given: [(String, String, Float)] = []
        if let beta1 { given.append(("--beta1", "beta_1", beta1)) }
        if let beta2 { given.append(("--beta2", "beta_2", beta2)) }
        if let epsilon { given.append(("--epsilon", "epsilon", epsilon)) }
        if let rho { given.append(("--rho", "rho", rho)) }
        if let momentumForm { given.append(("--momentum-form", "classic", momentumForm == "classic" ? 1 : 0)) }
        return given
    }

    func validate() throws {
        for (flag, value) in [("--beta1", beta1), ("--beta2", beta2), ("--rho", rho)] {
            if let value, !(0..<1).contains(value) { throw ValidationError("\(flag) must be in [0, 1), got \(value)") }
        }
        if let epsilon, !(epsilon > 0) { throw ValidationError("--epsilon must be positive, got \(epsilon)") }
        if let momentumForm, !["average", "classic"].contains(momentumForm) {
            throw ValidationError("--momentum-form must be average or classic, got '\(momentumForm)'")
        }
        if let earlyStopping, earlyStopping < 0 { throw ValidationError("--early-stopping must not be negative, got \(earlyStopping)") }
        guard plateauFactor > 0, plateauFactor < 1 else { throw ValidationError("--plateau-factor must be in (0, 1), got \(plateauFactor)") }
        guard plateauPatience >= 0 else { throw ValidationError("--plateau-patience must not be negative, got \(plateauPatience)") }
        if let kernelInitializer { _ = try Self.initializer(named: kernelInitializer) }
        if let channels, ![1, 3].contains(channels) { throw ValidationError("--channels must be 1 or 3, got \(channels)") }
    }

    /// The hyper-parameters for the optimizer registered as `optimizer`: a flag its optimizer does
    /// not have is a usage error naming the optimizers that do.
    func hyperparameters(for optimizer: String) throws -> [String: Float] {
        let known = try usage("--optimizer \(optimizer)") { try OptimizerRegistry.optimizer(named: optimizer) }.hyperparameters
        var result: [String: Float] = [:]
        for (flag, key, value) in givenHyperparameters {
            // Nesterov shares Momentum's parameters but has one form only.
            guard known[key] != nil, !(key == "classic" && optimizer != "momentum") else {
                let owners = OptimizerRegistry.registeredNames.filter {
                    (try? OptimizerRegistry.optimizer(named: $0))?.hyperparameters[key] != nil && (key != "classic" || $0 == "momentum")
                }
                throw ValidationError("\(flag) does not apply to --optimizer \(optimizer); it applies to \(owners.joined(separator: ", "))")
            }
            result[key] = value
        }
        return result
    }

    /// Early stopping and plateau callbacks, watching `monitor` (e.g. `val_loss`, `test_loss` or `loss`).
    func callbacks(monitor: String) -> [any Callback] {
        var callbacks: [any Callback] = []
        if let earlyStopping {
            callbacks.append(EarlyStopping(monitor: monitor, patience: earlyStopping, restoreBestWeights: true))
        }
        if reduceLrOnPlateau {
            callbacks.append(ReduceLearningRateOnPlateau(monitor: monitor, factor: plateauFactor, patience: plateauPatience))
        }
        return callbacks
    }

    /// The initializer a command-line name means: Keras's snake-case name with dashes (`he-normal`)
    /// or underscores, or its class name (`HeNormal`).
    static func initializer(named name: String) throws -> Initializer {
        let kerasName = name.replacingOccurrences(of: "-", with: "_")
        do {
            return try Initializer(kerasConfig: KerasConfig(className: kerasName))
        } catch let error as ConvNetError {
            throw ValidationError("--kernel-initializer \(name): \(error.description)")
        }
    }

    /// `model` with every `Conv2D` and `Dense` kernel drawn afresh (from `seed`) by the
    /// `--kernel-initializer`, through the model's Keras config; the model itself when not given.
    func applyingKernelInitializer(to model: Model, seed: UInt64) throws -> Model {
        guard let kernelInitializer else { return model }
        let config = try Self.initializer(named: kernelInitializer).kerasConfig
        let replacement = try JSONSerialization.jsonObject(with: Data(try config.serialized(module: "keras.initializers").jsonText().utf8))
        guard var json = try JSONSerialization.jsonObject(with: Data(try KerasModelJSON.json(for: model).utf8)) as? [String: Any] else {
            throw ConvNetError.argument("--kernel-initializer: model '\(model.name)' has no Keras config")
        }
        func rewrite(_ value: Any) -> Any {
            if var object = value as? [String: Any] {
                for (key, inner) in object { object[key] = key == "kernel_initializer" ? replacement : rewrite(inner) }
                return object
            }
            if let array = value as? [Any] { return array.map(rewrite) }
            return value
        }
        json = rewrite(json) as? [String: Any] ?? json
        let text = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
        return try KerasModelJSON.model(fromJSON: text, seed: seed)
    }
}
