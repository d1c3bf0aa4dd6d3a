import ArgumentParser
import ConvNet

@main
struct ConvNetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convnet",
        abstract: "Define, train, evaluate and inspect convolutional neural networks on the CPU.",
        subcommands: [TrainCommand.self, SummaryCommand.self, DatasetsCommand.self, DemoCommand.self, BenchCommand.self]
    )
}
