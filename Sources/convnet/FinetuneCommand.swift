import ArgumentParser
import ConvNet
import Foundation

/// `convnet finetune`: transfer learning, Keras-style. The model's classifier is cut off
/// (`Model.base()`, Keras `include_top=False`), a new `Dense` softmax layer sized to the dataset's
/// classes is put on, the base is frozen (or not), and the model is trained with every option of
/// `convnet train`.
struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune a trained model on another dataset: a new classifier on its base, the base frozen or not.",
        discussion: """
        The model's layers up to its last pooling or flatten layer are kept with their
        weights (Keras's include_top=False); a new Dense softmax layer with one output
        per class of the dataset replaces the rest. --freeze base (the default) trains
        only the new layer; --freeze none trains everything; --freeze-until LAYER
        freezes the layers up to and including LAYER and trains the ones after it.
        Frozen layers are saved as trainable: false. Every option of `convnet train`
        applies (a --resume'd checkpoint keeps its own head and frozen layers).

        Examples:
          convnet finetune --model lenet5.h5 --dataset mnist --epochs 2 --save lenet5-mnist.h5
          convnet finetune --model lenet5.h5 --dataset signs --freeze-until max_pooling2d --lr 0.0001
        """)

    @OptionGroup var training: TrainingOptions
    @Option(help: ArgumentHelp("base: train only the new classifier; none: train every layer.", valueName: "base|none"))
    var freeze: String?
    @Option(help: ArgumentHelp("Freeze the layers up to and including LAYER (as `convnet summary` lists them) and train the rest.", valueName: "LAYER"))
    var freezeUntil: String?

    func validate() throws {
        _ = try training.modelOptions.required("the trained model to fine-tune (.keras, .h5)")
        if let freeze, !["base", "none"].contains(freeze) {
            throw ValidationError("--freeze must be base or none, got \(freeze)")
        }
        if freeze != nil, freezeUntil != nil { throw ValidationError("--freeze and --freeze-until both choose the frozen layers; give one") }
    }

    func run() throws {
        let freeze = freeze ?? "base", freezeUntil = freezeUntil
        try training.run { network, classNames in
            try Self.prepare(&network, classes: classNames.count, freeze: freeze, freezeUntil: freezeUntil)
        }
    }

    /// Replaces `network`'s classifier with a `Dense(classes, softmax)` layer (`Model.newClassifier`) and freezes the base
    /// (`freeze == "base"`), nothing (`"none"`), or the layers up to and including `freezeUntil`.
    static func prepare(_ network: inout Model, classes: Int, freeze: String, freezeUntil: String?) throws {
        let base = try network.base()
        var tuned = try Model(base: base, head: Model.newClassifier(for: base, classes: classes))
        try tuned.setTrainable(true)
        if let freezeUntil {
            guard let end = base.layers.firstIndex(where: { $0.name == freezeUntil }) else {
                throw ValidationError("--freeze-until: the base of model '\(network.name)' has no layer '\(freezeUntil)' (its layers: \(base.layers.map(\.name).joined(separator: ", ")))")
            }
            try tuned.setTrainable(false, layers: base.layers[...end].map(\.name))
        } else if freeze == "base" {
            try tuned.setTrainable(false, layers: base.layers.map(\.name))
        }
        network = tuned
    }
}
