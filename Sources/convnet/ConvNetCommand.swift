import ArgumentParser
import ConvNet
import Foundation

struct ConvNetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convnet",
        abstract: "Define, train, evaluate and inspect convolutional neural networks on the CPU.",
        version: ConvNetVersion.current,
        subcommands: [TrainCommand.self, FinetuneCommand.self, EvaluateCommand.self, PredictCommand.self, SummaryCommand.self,
                      ConvertCommand.self, ExportCommand.self, DatasetsCommand.self, FilterCommand.self, VisualizeCommand.self,
                      PlotCommand.self, SweepCommand.self, BenchCommand.self, DemoCommand.self, SpeedrunCommand.self]
    )
}

/// Runs the command line with the exit codes users of Unix tools expect: 0 on success, 1 for a
/// failure (a one-line `Error: ...` naming the file or flag, no stack trace), 2 for bad usage.
@main
enum Main {
    static func main() {
        // The tool owns its process: pick OpenBLAS's kernel before the first GEMM loads it, and tune
        // malloc for training (see `ConvNetRuntime.configure`). `--threads` options apply later.
        ConvNetRuntime.configure()
        do {
            var command = try ConvNetCommand.parseAsRoot()
            try command.run()
        } catch {
            let code = ConvNetCommand.exitCode(for: error)
            let message = ConvNetCommand.fullMessage(for: error)
            if code == .success {
                print(message)
                exit(0)
            }
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            DistributedRun.abortJob(code: code == .validationFailure ? 2 : code.rawValue)  // under mpirun: end every rank
            exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}
