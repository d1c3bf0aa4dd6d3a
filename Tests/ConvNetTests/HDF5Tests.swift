import ConvNet
import Foundation
import Testing

/// HDF5 reading and writing, checked against the LeNet-5 that Keras 3.15 trained and saved in both
/// of its layouts (`Fixtures/keras/lenet5.h5` and `lenet5.weights.h5`).
@Suite struct HDF5Tests {
    static let lenetLayers = ["conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "flatten", "dense", "dense_1", "dense_2"]
    static let lenetWeightShapes = [[5, 5, 1, 6], [6], [5, 5, 6, 16], [16], [400, 120], [120], [120, 84], [84], [84, 10], [10]]

    // MARK: - Keras fixtures

    @Test func readsLegacyFullModelFile() throws {
        let path = try fixture("lenet5.h5")
        #expect(try KerasWeightsFile.layout(of: path) == .legacyModel)
        let model = try KerasWeightsFile.read(path)
        #expect(model.layers.map(\.name) == Self.lenetLayers)
        #expect(model.layers.flatMap(\.weights).map(\.value.shape) == Self.lenetWeightShapes)
        #expect(model.layers[0].weights.map(\.name) == ["lenet5/conv2d/kernel", "lenet5/conv2d/bias"])
        #expect(model.layers.filter { $0.weights.isEmpty }.map(\.name) == ["max_pooling2d", "max_pooling2d_1", "flatten"])
        #expect(model.backend == "tensorflow")
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtureURL("lenet5.expected.json"))) as? [String: Any]
        #expect(model.kerasVersion == expected?["keras_version"] as? String)

        let config = try JSONSerialization.jsonObject(with: Data(try #require(model.modelConfig).utf8)) as? [String: Any]
        #expect(config?["class_name"] as? String == "Sequential")
        let layers = (config?["config"] as? [String: Any])?["layers"] as? [[String: Any]]
        #expect(layers?.compactMap { ($0["config"] as? [String: Any])?["name"] as? String } == ["input_layer"] + Self.lenetLayers)
    }

    @Test func keras3WeightsFileMatchesLegacyFile() throws {
        let legacy = try KerasWeightsFile.read(fixture("lenet5.h5"))
        let path = try fixture("lenet5.weights.h5")
        #expect(try KerasWeightsFile.layout(of: path) == .keras3Weights)

        // With the model config, layers come back in model order under their config names.
        let ordered = try KerasWeightsFile.read(path, modelConfig: legacy.modelConfig)
        #expect(ordered.layers.map(\.name) == Self.lenetLayers)
        #expect(ordered.layers.map { $0.weights.map(\.value) } == legacy.layers.map { $0.weights.map(\.value) })
        #expect(ordered.layers.map { $0.weights.map(\.name) } == legacy.layers.map { $0.weights.indices.map { "vars/\($0)" } })
        #expect(ordered.modelConfig == nil && ordered.kerasVersion == nil)

        // Without it, the layers with weights still come in model order (one per class counter).
        let unordered = try KerasWeightsFile.read(path)
        #expect(Set(unordered.layers.map(\.name)) == Set(Self.lenetLayers))
        #expect(unordered.layers.filter { !$0.weights.isEmpty } == ordered.layers.filter { !$0.weights.isEmpty })
    }

    /// Keras 3 files its layers under their class (`conv2d`, `conv2d_1`, ...), not their names.
    @Test func modelConfigMapsLayersByClass() throws {
        let legacy = try KerasWeightsFile.read(fixture("lenet5.h5"))
        let renamed = Self.lenetLayers.map { "my_" + $0 }
        let config = try renamingLayers(of: try #require(legacy.modelConfig), to: ["input"] + renamed)
        let model = try KerasWeightsFile.read(try fixture("lenet5.weights.h5"), modelConfig: config)
        #expect(model.layers.map(\.name) == renamed)
        #expect(model.layers.map { $0.weights.map(\.value) } == legacy.layers.map { $0.weights.map(\.value) })

        // A config that lists a layer the file lacks is rejected, naming the missing group.
        let tooMany = try addingLayer(to: try #require(legacy.modelConfig), className: "Dense", name: "extra")
        expectFileError(path: try fixture("lenet5.weights.h5"), containing: "group layers/dense_3 not found") {
            _ = try KerasWeightsFile.read(try fixture("lenet5.weights.h5"), modelConfig: tooMany)
        }
    }

    /// Layouts the fixtures do not show, built the way Keras writes them.
    @Test func readsOtherKerasLayouts() throws {
        try withTemporaryDirectory { directory in
            // Keras 2 `save_weights("m.h5")`: names at the root, all as fixed-length byte strings.
            let keras2 = directory.appendingPathComponent("keras2.h5").path
            try HDF5File.write(to: keras2) { file in
                try file.writeStrings(["dense", "dropout"], attribute: "layer_names", of: "/")
                try file.writeStrings(["2.15.0"], attribute: "keras_version", of: "/")
                try file.createGroup("dense")
                try file.writeStrings(["dense/kernel:0", "dense/bias:0"], attribute: "weight_names", of: "dense")
                try file.write(Tensor([[1, 2], [3, 4]]), to: "dense/dense/kernel:0")
                try file.write(Tensor([5, 6]), to: "dense/dense/bias:0")
                try file.createGroup("dropout")
                try file.writeStrings([], attribute: "weight_names", of: "dropout")
            }
            #expect(try KerasWeightsFile.layout(of: keras2) == .legacyWeights)
            #expect(try KerasWeightsFile.read(keras2) == KerasWeightsFile(layers: [
                KerasLayerWeights(name: "dense", weights: [KerasWeight(name: "dense/kernel:0", value: try Tensor([[1, 2], [3, 4]])),
                                                           KerasWeight(name: "dense/bias:0", value: Tensor([5, 6]))]),
                KerasLayerWeights(name: "dropout", weights: []),
            ], kerasVersion: "2.15.0"))

            // Keras 3 with more than ten variables, a seed generator and a nested model.
            let nested = directory.appendingPathComponent("nested.weights.h5").path
            try HDF5File.write(to: nested) { file in
                for index in 0..<12 { try file.write(Tensor([Float(index)]), to: "layers/lstm/vars/\(index)") }
                try file.createGroup("layers/dropout/vars")
                try file.write(Tensor([7, 8]), to: "layers/dropout/seed_generator/vars/0")
                try file.createGroup("layers/sequential/vars")
                try file.write(Tensor([1]), to: "layers/sequential/layers/dense_1/vars/0")
                try file.write(Tensor([2]), to: "layers/sequential/layers/dense/vars/0")
                try file.write(Tensor([3]), to: "layers/sequential/layers/dense/vars/1")
                try file.createGroup("vars")
            }
            let model = try KerasWeightsFile.read(nested)
            #expect(model.layers.map(\.name) == ["dropout", "lstm", "sequential"])
            #expect(model.layers[0].weights == [KerasWeight(name: "seed_generator/vars/0", value: Tensor([7, 8]))])
            #expect(model.layers[1].weights.map(\.value.scalars) == (0..<12).map { [Float($0)] })
            #expect(model.layers[2].weights.map(\.name) == ["layers/dense/vars/0", "layers/dense/vars/1", "layers/dense_1/vars/0"])
            let copy = directory.appendingPathComponent("copy.weights.h5").path
            try model.writeKeras3Weights(to: copy)
            #expect(try KerasWeightsFile.read(copy) == model)

            // Keras 2.13 wrote `_layer_checkpoint_dependencies` where Keras 3 writes `layers`.
            let keras213 = directory.appendingPathComponent("keras213.weights.h5").path
            try HDF5File.write(to: keras213) { try $0.write(Tensor([1, 2]), to: "_layer_checkpoint_dependencies/dense/vars/0") }
            #expect(try KerasWeightsFile.read(keras213).layers == [KerasLayerWeights(name: "dense", weights: [
                KerasWeight(name: "vars/0", value: Tensor([1, 2])),
            ])])
        }
    }

    // MARK: - Round trips

    @Test func legacyRoundTrip() throws {
        let original = try KerasWeightsFile.read(fixture("lenet5.h5"))
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("copy.h5").path
            try original.writeLegacy(to: path)
            #expect(try KerasWeightsFile.layout(of: path) == .legacyModel)
            #expect(try KerasWeightsFile.read(path) == original)
            #expect(try directoryContents(directory) == ["copy.h5"])
        }
    }

    @Test func keras3RoundTrip() throws {
        let legacy = try KerasWeightsFile.read(fixture("lenet5.h5"))
        let original = try KerasWeightsFile.read(fixture("lenet5.weights.h5"), modelConfig: legacy.modelConfig)
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("copy.weights.h5").path
            try original.writeKeras3Weights(to: path)
            #expect(try KerasWeightsFile.layout(of: path) == .keras3Weights)
            #expect(try KerasWeightsFile.read(path, modelConfig: legacy.modelConfig) == original)
            // The stored `name` attributes name the layers when no config is given.
            #expect(try KerasWeightsFile.read(path) == KerasWeightsFile.read(fixture("lenet5.weights.h5")))

            // From the legacy file, with its config: the groups Keras expects, found by class.
            let converted = directory.appendingPathComponent("converted.weights.h5").path
            try legacy.writeKeras3Weights(to: converted)
            let groups = try HDF5File.read(converted) { try $0.children(of: "layers").map(\.name) }
            #expect(Set(groups) == Set(Self.lenetLayers))
            let reread = try KerasWeightsFile.read(converted, modelConfig: legacy.modelConfig)
            #expect(reread == original)
        }
    }

    @Test func namedArraysRoundTrip() throws {
        var generator = RandomGenerator(seed: 0)
        let arrays = [
            "W1": Tensor.randomNormal(shape: [4, 4, 3, 8], generator: &generator),
            "b1": Tensor.randomNormal(shape: [1, 1, 1, 8], generator: &generator),
            "W2": Tensor.randomNormal(shape: [2, 2, 8, 16], generator: &generator),
            "b2": Tensor(0.5),
        ]
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("parameters.h5").path
            try HDF5File.writeArrays(arrays, to: path)
            #expect(try HDF5File.readArrays(path) == arrays)
            #expect(try HDF5File.read(path) { try $0.shape(ofDataset: "W2") } == [2, 2, 8, 16])
            #expect(throws: ConvNetError.self) { try HDF5File.writeArrays(["a/b": Tensor(1)], to: path) }
            #expect(try directoryContents(directory) == ["parameters.h5"])
        }
    }

    /// SIGNS stores images as uint8 and labels as int64; both also read as Float.
    @Test func integerDatasets() throws {
        let images = try HDF5Array(shape: [2, 2, 2, 3], values: (0..<24).map { UInt8($0 * 10) })
        let labels = try HDF5Array(shape: [2], values: [Int64(5), -3])
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("signs.h5").path
            try HDF5File.write(to: path) { file in
                try file.write(images, to: "train_set_x")
                try file.write(labels, to: "train_set_y")
            }
            try HDF5File.read(path) { file throws in
                #expect(try file.readUInt8("train_set_x") == images)
                #expect(try file.readInt64("train_set_y") == labels)
                #expect(try file.readTensor("train_set_x") == Tensor(shape: [2, 2, 2, 3], scalars: images.values.map(Float.init)))
                #expect(try file.readTensor("train_set_y").scalars == [5, -3])
            }
        }
    }

    @Test func attributesAndGroups() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("attributes.h5").path
            try HDF5File.write(to: path) { file in
                try file.createGroup("outer/inner")
                try file.writeString("résumé ✓", attribute: "text", of: "/")
                try file.writeStrings(["a", "bcd", ""], attribute: "names", of: "outer/inner")
                try file.writeStrings([], attribute: "none", of: "outer")
                try file.writeNumber(0.25, attribute: "rate", of: "outer")
                try file.write(Tensor([1, 2, 3]), to: "outer/values")
                try file.writeNumber(2, attribute: "scale", of: "outer/values")
            }
            try HDF5File.read(path) { file throws in
                #expect(try file.readString(attribute: "text", of: "") == "résumé ✓")
                #expect(try file.readStrings(attribute: "names", of: "/outer/inner/") == ["a", "bcd", ""])
                #expect(try file.readStrings(attribute: "none", of: "outer") == [])
                #expect(try file.readNumber(attribute: "rate", of: "outer") == 0.25)
                #expect(try file.readNumbers(attribute: "scale", of: "outer/values") == [2])
                #expect(try file.attributeNames(of: "outer") == ["none", "rate"])
                #expect(try file.hasAttribute("rate", of: "outer") && !file.hasAttribute("rate", of: "/"))
                #expect(try file.children(of: "outer") == [HDF5Link(name: "inner", kind: .group), HDF5Link(name: "values", kind: .dataset)])
                #expect(try file.kind(of: "outer/missing") == nil)
                expectFileError(path: path, containing: "attribute names of outer/inner holds 3 strings, expected one") {
                    _ = try file.readString(attribute: "names", of: "outer/inner")
                }
                expectFileError(path: path, containing: "attribute rate of outer holds floating-point numbers, expected strings") {
                    _ = try file.readStrings(attribute: "rate", of: "outer")
                }
                expectFileError(path: path, containing: "attribute absent of outer not found") {
                    _ = try file.readNumber(attribute: "absent", of: "outer")
                }
            }
        }
        // The fixture stores names as variable-length strings and an empty list as a float64 array.
        try HDF5File.read(try fixture("lenet5.h5")) { file throws in
            #expect(try file.readStrings(attribute: "layer_names", of: "model_weights") == Self.lenetLayers)
            #expect(try file.readStrings(attribute: "weight_names", of: "model_weights/flatten") == [])
        }
    }

    /// Keras splits name lists that exceed the 64 KiB attribute limit into `weight_names0`, `weight_names1`, ...
    @Test func longNameListsAreSplit() throws {
        let weights = (0..<700).map { KerasWeight(name: "weight_\($0)_" + String(repeating: "x", count: 90), value: Tensor([Float($0)])) }
        let model = KerasWeightsFile(layers: [KerasLayerWeights(name: "big", weights: weights)])
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("big.h5").path
            try model.writeLegacy(to: path)
            try HDF5File.read(path) { file throws in
                #expect(try !file.hasAttribute("weight_names", of: "model_weights/big"))
                #expect(try file.hasAttribute("weight_names1", of: "model_weights/big"))
            }
            let reread = try KerasWeightsFile.read(path)
            #expect(reread.layers == model.layers)
            #expect(reread.kerasVersion == KerasWeightsFile.defaultKerasVersion && reread.backend == KerasWeightsFile.defaultBackend)
        }
    }

    // MARK: - Failures

    @Test func missingObjectsAreNamed() throws {
        let path = try fixture("lenet5.h5")
        try HDF5File.read(path) { file throws in
            #expect(throws: ConvNetError.file(path: path, message: "dataset model_weights/dense/dense/kernel:0 not found")) {
                try file.readTensor("model_weights/dense/dense/kernel:0")
            }
            #expect(throws: ConvNetError.file(path: path, message: "model_weights is a group, expected a dataset")) {
                try file.readTensor("model_weights")
            }
            #expect(throws: ConvNetError.file(path: path, message: "group nowhere not found")) {
                try file.children(of: "nowhere")
            }
        }
        #expect(throws: ConvNetError.file(path: path + ".missing", message: "no such file")) {
            try HDF5File.open(path + ".missing")
        }
    }

    @Test func truncatedAndForeignFilesAreRejected() throws {
        try withTemporaryDirectory { directory in
            let truncated = directory.appendingPathComponent("truncated.h5").path
            let original = try Data(contentsOf: fixtureURL("lenet5.h5"))
            try original.prefix(1000).write(to: URL(fileURLWithPath: truncated))
            expectFileError(path: truncated, containing: "truncated or corrupt HDF5 file") { _ = try KerasWeightsFile.read(truncated) }
            expectFileError(path: truncated, containing: "truncated") { _ = try HDF5File.readArrays(truncated) }

            let text = directory.appendingPathComponent("notes.h5").path
            try Data("these are not weights\n".utf8).write(to: URL(fileURLWithPath: text))
            expectFileError(path: text, containing: "not an HDF5 file") { _ = try KerasWeightsFile.read(text) }

            let unrelated = directory.appendingPathComponent("arrays.h5").path
            try HDF5File.writeArrays(["W1": Tensor(1)], to: unrelated)
            expectFileError(path: unrelated, containing: "not a Keras weight file") { _ = try KerasWeightsFile.read(unrelated) }
        }
    }

    @Test func failedWritesLeaveNoFiles() throws {
        struct Interrupted: Error {}
        try withTemporaryDirectory { directory in
            let target = directory.appendingPathComponent("weights.h5").path
            #expect(throws: Interrupted.self) {
                try HDF5File.write(to: target) { file in
                    try file.write(Tensor([1, 2]), to: "W1")
                    throw Interrupted()
                }
            }
            #expect(try directoryContents(directory) == [])

            // A writer dropped or closed without commit() removes its temporary file.
            try HDF5File.create(target).write(Tensor([1]), to: "W1")
            let closed = try HDF5File.create(target)
            closed.close()
            #expect(throws: ConvNetError.self) { try closed.commit() }
            #expect(try directoryContents(directory) == [])

            // A Keras writer failing midway (second layer with the same name) leaves nothing either,
            // and an existing file at the target keeps its contents.
            let layer = KerasLayerWeights(name: "dense", weights: [KerasWeight(name: "kernel:0", value: Tensor([1]))])
            let clash = KerasWeightsFile(layers: [layer, layer])
            expectFileError(path: target, containing: "cannot create group model_weights/dense: it already exists") {
                try clash.writeLegacy(to: target)
            }
            #expect(try directoryContents(directory) == [])
            try KerasWeightsFile(layers: [layer]).writeLegacy(to: target)
            #expect(throws: ConvNetError.self) { try clash.writeLegacy(to: target) }
            #expect(try KerasWeightsFile.read(target).layers == [layer])
            #expect(try directoryContents(directory) == ["weights.h5"])
        }
    }

    // MARK: - Threads and other readers

    /// libhdf5 is not thread-safe; ConvNet serialises its calls, so parallel reads agree.
    @Test func concurrentReads() async throws {
        let path = try fixture("lenet5.h5")
        let expected = try KerasWeightsFile.read(path)
        let results = try await withThrowingTaskGroup(of: KerasWeightsFile.self) { group in
            for _ in 0..<8 { group.addTask { try KerasWeightsFile.read(path) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 8 && results.allSatisfy { $0 == expected })
    }

    /// Reads ConvNet's legacy file with h5py the way Keras's `load_model` does. Skipped, with a
    /// printed reason, when python3 or h5py is missing.
    @Test func h5pyReadsLegacyFile() throws {
        guard let missing = runPython(["-c", "import h5py"]).failure else {
            return try checkWithH5py()
        }
        print("HDF5Tests.h5pyReadsLegacyFile: SKIPPED, h5py is not available (\(missing))")
    }

    private func checkWithH5py() throws {
        let model = try KerasWeightsFile.read(fixture("lenet5.h5"))
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("convnet.h5").path
            try model.writeLegacy(to: path)
            let script = """
                import json, sys, h5py
                def names(group, name):  # Keras's load_attributes_from_hdf5_group
                    return [n.decode("utf8") if hasattr(n, "decode") else n for n in group.attrs[name]]
                def text(value):
                    return value.decode("utf8") if hasattr(value, "decode") else value
                with h5py.File(sys.argv[1], "r") as f:
                    weights = f["model_weights"]
                    layers = names(weights, "layer_names")
                    print(json.dumps({
                        "keras_version": text(f.attrs["keras_version"]),
                        "backend": text(f.attrs["backend"]),
                        "model_class": json.loads(text(f.attrs["model_config"]))["class_name"],
                        "layer_names_dtype_kind": weights.attrs["layer_names"].dtype.kind,
                        "layers": [[layer, [[w, list(weights[layer][w].shape), weights[layer][w].dtype.str,
                                             float(weights[layer][w][()].sum())]
                                            for w in names(weights[layer], "weight_names")]] for layer in layers],
                    }))
                """
            let run = runPython(["-c", script, path])
            guard run.failure == nil, let output = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any] else {
                Issue.record("h5py could not read \(path): \(run.failure ?? run.output)")
                return
            }
            #expect(output["keras_version"] as? String == model.kerasVersion)
            #expect(output["backend"] as? String == "tensorflow")
            #expect(output["model_class"] as? String == "Sequential")
            #expect(output["layer_names_dtype_kind"] as? String == "S")
            let layers = try #require(output["layers"] as? [[Any]])
            #expect(layers.compactMap { $0.first as? String } == Self.lenetLayers)
            for (layer, entry) in zip(model.layers, layers) {
                let weights = try #require(entry.last as? [[Any]])
                #expect(weights.compactMap { $0[0] as? String } == layer.weights.map(\.name))
                #expect(weights.compactMap { ($0[1] as? [Int]) } == layer.weights.map(\.value.shape))
                #expect(weights.allSatisfy { $0[2] as? String == "<f4" })
                let sums = weights.compactMap { ($0[3] as? NSNumber)?.floatValue }
                #expect(allClose(sums, layer.weights.map { $0.value.scalars.reduce(0, +) }, absolute: 1e-3, relative: 1e-4))
            }
        }
    }
}

// MARK: - Helpers

private func fixtureURL(_ name: String) throws -> URL {
    let directory = Fixtures.keras
    let url = directory.appendingPathComponent(name)
    guard FileManager.default.fileExists(atPath: url.path) else {
        throw FixtureError("missing \(url.path): the HDF5 tests need the Keras fixtures in \(directory.path)")
    }
    return url
}

private func fixture(_ name: String) throws -> String {
    try fixtureURL(name).path
}

private func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-hdf5-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
}

private func directoryContents(_ directory: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
}

/// Expects `body` to throw `ConvNetError.file` for `path` with a message containing `text`.
private func expectFileError(path: String, containing text: String, sourceLocation: SourceLocation = #_sourceLocation,
                             _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an error about \(path) containing \"\(text)\"", sourceLocation: sourceLocation)
    } catch let ConvNetError.file(errorPath, message) {
        #expect(errorPath == path, sourceLocation: sourceLocation)
        #expect(message.contains(text), "message: \(message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected ConvNetError.file, got \(error)", sourceLocation: sourceLocation)
    }
}

/// The model config with its layers renamed in order.
private func renamingLayers(of config: String, to names: [String]) throws -> String {
    try editingLayers(of: config) { layers in
        for (index, name) in names.enumerated() {
            var layer = layers[index]
            var layerConfig = layer["config"] as? [String: Any] ?? [:]
            layerConfig["name"] = name
            layer["config"] = layerConfig
            layers[index] = layer
        }
    }
}

/// The model config with one more layer at the end.
private func addingLayer(to config: String, className: String, name: String) throws -> String {
    try editingLayers(of: config) { $0.append(["class_name": className, "config": ["name": name]]) }
}

private func editingLayers(of config: String, _ edit: (inout [[String: Any]]) -> Void) throws -> String {
    var root = try #require(try JSONSerialization.jsonObject(with: Data(config.utf8)) as? [String: Any])
    var model = try #require(root["config"] as? [String: Any])
    var layers = try #require(model["layers"] as? [[String: Any]])
    edit(&layers)
    model["layers"] = layers
    root["config"] = model
    return String(decoding: try JSONSerialization.data(withJSONObject: root), as: UTF8.self)
}

/// Runs python3 with `arguments`; `failure` describes why it did not exit with status 0.
private func runPython(_ arguments: [String]) -> (output: String, failure: String?) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    do {
        try process.run()
    } catch {
        return ("", "cannot run python3: \(error)")
    }
    let stdout = output.fileHandleForReading.readDataToEndOfFile()
    let stderr = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let failure = process.terminationStatus == 0 ? nil
        : "python3 exited with status \(process.terminationStatus): \(String(decoding: stderr, as: UTF8.self).suffix(500))"
    return (String(decoding: stdout, as: UTF8.self), failure)
}
