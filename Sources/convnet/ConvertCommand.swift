import ArgumentParser
import ConvNet

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert between Keras model and weight formats.",
        discussion: """
        The output format follows the name: *.keras is Keras 3's native model file
        (model.save("m.keras")), *.weights.h5 Keras 3's save_weights layout, any other
        *.h5 a legacy full model (model.save) when the architecture is known, else
        legacy save_weights. The input may be any of these.
          convnet convert lenet5.h5 lenet5.keras
          convnet convert lenet5.keras lenet5.weights.h5
          convnet convert --model lenet5 lenet5.weights.h5 lenet5.h5
        """)

    @OptionGroup(title: "The architecture (zoo name or Keras JSON), needed when the input holds weights only") var modelOptions: ModelOptions
    @Argument(help: "Input .keras or .h5 file.") var input: String
    @Argument(help: "Output .keras or .h5 file.") var output: String

    func validate() throws {
        for path in [input, output] where ModelFileFormat(path: path)?.holdsWeights != true {
            throw ValidationError("\(path): both files must end in \(ModelFileFormat.trainedModelExtensions)")
        }
        try OutputPath.check(output, flag: "<output>")
    }

    func run() throws {
        var network: Model
        var metadata: ModelMetadata?
        if let model = modelOptions.model {
            network = try ModelSource.load(model).model
            try network.loadWeights(from: input)
        } else {
            (network, metadata) = try Model.loadWithMetadata(from: input)
        }
        if output.hasSuffix(".weights.h5") {
            try network.saveWeights(to: output)
        } else {
            try network.save(to: output, metadata: metadata)
        }
        print("Wrote \(output)")
    }
}
