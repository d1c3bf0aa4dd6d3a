import ArgumentParser
import ConvNet

struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Print a model's layers, output shapes and parameter counts, as Keras's model.summary().")

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Input size HxWxC, e.g. 224x224x3 (zoo models only; sizes may be 'None').") var input: String?
    @Option(help: "Number of classes (zoo models only).") var classes: Int?
    @Flag(help: "List the zoo's models.") var list = false
    @Flag(help: "Add a Trainable column: Y for trained layers, N for frozen ones (Keras show_trainable=True).") var showTrainable = false

    func validate() throws {
        if let classes, classes < 1 { throw ValidationError("--classes must be positive, got \(classes)") }
    }

    func run() throws {
        guard !list, let model = modelOptions.model else {
            for entry in ModelZoo.catalog { print("\(entry.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(entry.description)") }
            return
        }
        print(try ModelSource.load(model, inputShape: try input.map(Self.parseShape), classes: classes).model.summary(showTrainable: showTrainable))
    }

    /// `28x28x1` → `[28, 28, 1]`; `Nonex Nonex1` → `[nil, nil, 1]`.
    static func parseShape(_ text: String) throws -> LayerShape {
        let parts = text.lowercased().split(separator: "x")
        let shape = parts.map { $0 == "none" ? nil : Int($0) }
        guard parts.count == 3, zip(parts, shape).allSatisfy({ $0 == "none" || ($1 ?? 0) > 0 }) else {
            throw ValidationError("--input \(text): expected HxWxC, e.g. 28x28x1")
        }
        return shape
    }
}
