import ArgumentParser
import ConvNet

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a model for other runtimes (ONNX).",
        discussion: """
        The ONNX file takes NHWC input (batch, height, width, channels), as the model does, or NCHW with
        --channels-first; images must be preprocessed as the model was trained (stored in the .h5 file).
          convnet export --format onnx lenet5.h5 -o lenet5.onnx
          convnet export --format onnx resnet20.h5 -o resnet20.onnx --opset 17 --channels-first
        """)

    @Option(help: "The output format: onnx.") var format = "onnx"
    @Argument(help: "A model file (.h5), a zoo name or a Keras JSON config (the last two have untrained weights).") var model: String
    @OptionGroup var outputOptions: OutputOptions
    @Option(help: ArgumentHelp("The ONNX operator set (\(Model.onnxOpsets.lowerBound)...\(Model.onnxOpsets.upperBound)).")) var opset = 13
    @Flag(help: "Take and return NCHW tensors (batch, channels, height, width) instead of the model's NHWC.") var channelsFirst = false
    @Flag(help: "Leave out the final softmax or sigmoid: the graph returns the scores (logits).") var logits = false

    func validate() throws {
        guard format == "onnx" else { throw ValidationError("--format \(format): the only export format is onnx") }
        guard Model.onnxOpsets.contains(opset) else {
            throw ValidationError("--opset \(opset): expected \(Model.onnxOpsets.lowerBound)...\(Model.onnxOpsets.upperBound)")
        }
        guard outputOptions.pathExtension == "onnx" else { throw ValidationError("--output \(outputOptions.output): the file must end in .onnx") }
        if ModelSource.isFile(model) { try OutputPath.checkInput(model, flag: "<model>") }
    }

    func run() throws {
        var network = try ModelSource.load(model).model
        if logits { network = network.withoutFinalActivation() }
        try network.exportONNX(to: outputOptions.output, opset: opset, channelsFirst: channelsFirst)
        print("Wrote \(outputOptions.output) (ONNX opset \(opset), \(channelsFirst ? "NCHW" : "NHWC") input)")
    }
}
