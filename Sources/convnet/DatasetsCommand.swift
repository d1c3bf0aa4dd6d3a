import ArgumentParser
import ConvNet
import Foundation

struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datasets",
        abstract: "Show which datasets are found where.")

    @Option(help: "Also look in this folder (MNIST-style IDX files, cifar-10-batches-bin, or class folders).") var dataDir: String?

    func run() throws {
        let fashion = MNISTStyle.fashionMNISTDirectory
        report("fashion-mnist", at: fashion) { try MNISTStyle.load(directory: fashion, split: .test, limit: 1) }
        if let dataDir {
            report("mnist-style", at: dataDir) { try MNISTStyle.load(directory: dataDir, split: .test, classNames: MNISTStyle.digitClassNames, limit: 1) }
            report("cifar10", at: dataDir) { try CIFAR10.load(directory: dataDir, split: .test, limit: 1) }
            report("image folders", at: dataDir) { try ImageFolder.load(root: dataDir, limit: 1) }
        } else {
            print("mnist, cifar10, image folders: pass --data-dir DIR to check a folder")
        }
    }

    private func report(_ name: String, at path: String, _ probe: () throws -> LabeledImages) {
        do {
            let sample = try probe()
            print("\(name): found at \(path) (\(sample.classNames.count) classes, images \(sample.imageShape.map(String.init).joined(separator: "x")))")
        } catch {
            print("\(name): not found at \(path): \(error)")
        }
    }
}
