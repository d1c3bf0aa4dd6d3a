import ArgumentParser
import ConvNet
import Foundation

/// `--tensorboard DIR`: TensorBoard logs of a training run (train and finetune).
struct TensorBoardOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Write TensorBoard logs to DIR/train and DIR/validation: loss and learning rate per step, every log per epoch, weight histograms and the first layer's filters per epoch (view with `tensorboard --logdir DIR`).", valueName: "DIR"))
    var tensorboard: String?

    func validate() throws {
        guard let tensorboard else { return }
        try OutputPath.check(tensorboard, flag: "--tensorboard")
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: tensorboard, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw ValidationError("--tensorboard \(tensorboard): expected a folder, found a file")
        }
    }

    /// The callback, when `--tensorboard` was given.
    var callback: (any Callback)? { tensorboard.map { TensorBoard(logDirectory: $0) } }
}
