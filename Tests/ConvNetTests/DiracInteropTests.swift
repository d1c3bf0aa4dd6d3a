import ConvNet
import Foundation
import Testing

/// The identity initializer (`Initializer.dirac`, airbench94's convolutions) is not a Keras
/// initializer: files carry it as Keras's `VarianceScaling` stand-in registered as `ConvNet>Dirac`,
/// which Keras can build (scripts/keras3-interop.sh loads airbench94 in Keras), and ConvNet reads
/// `dirac` back from it, from the old `Dirac` class name and through a saved file.
struct DiracInteropTests {
    @Test func diracIsWrittenAsAKerasStandInAndReadBack() throws {
        let serialized = Initializer.dirac.kerasConfig.serialized(module: "keras.initializers")
        let object = try #require(serialized.object)
        #expect(object["class_name"]?.string == "VarianceScaling")
        #expect(object["registered_name"]?.string == "ConvNet>Dirac")
        // The stand-in draws what dirac draws outside its identity filters: U(−l, l),
        // l = √(3·scale/fan_in) = 1/√fan_in.
        let config = try #require(object["config"]?.object)
        #expect(config["mode"]?.string == "fan_in" && config["distribution"]?.string == "uniform")
        if case let .double(scale)? = config["scale"] { #expect(abs(3 * scale - 1) < 1e-12) } else { Issue.record("scale: \(String(describing: config["scale"]))") }
        #expect(try Initializer(kerasConfig: KerasConfig(serialized: serialized, what: "test")) == .dirac)
        // Files written before the stand-in name it "Dirac"; they still read.
        #expect(try Initializer(kerasConfig: KerasConfig(className: "Dirac")) == .dirac)
        #expect(try Initializer(kerasConfig: KerasConfig(className: "dirac")) == .dirac)
        #expect(Initializer.heNormal.kerasConfig.registeredName == nil)
    }

    @Test func savedModelKeepsItsDiracConvolutions() throws {
        let model = try Model(inputShape: [6, 6, 3], seed: 3) {
            Conv2D(4, kernelSize: 3, padding: .same, useBias: false, kernelInitializer: .dirac)
            Flatten()
            Dense(2)
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dirac-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["dirac.h5", "dirac.keras"] {
            let path = folder.appendingPathComponent(name).path
            try model.save(to: path)
            let loaded = try Model.load(from: path)
            let conv = try #require(loaded.layers.first as? Conv2D)
            #expect(conv.kernelInitializer == .dirac, "\(name)")
            #expect(loaded.namedWeights.map(\.value) == model.namedWeights.map(\.value), "\(name)")
        }
    }
}
