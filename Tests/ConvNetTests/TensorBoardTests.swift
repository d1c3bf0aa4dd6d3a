import ConvNet
import Foundation
import Testing

/// The TensorBoard callback's event files, taken apart record by record: TFRecord framing with
/// masked CRC-32C, `Event` and `Summary` fields (`scripts/tensorboard-check.sh` reads them with
/// TensorBoard's own EventAccumulator).
@Suite struct TensorBoardTests {
    /// The `Event` messages of a TFRecord file, each frame's checksums verified.
    static func events(in path: String) throws -> [ProtobufFields] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var events: [ProtobufFields] = [], position = 0
        func unmasked(_ offset: Int) -> UInt32 {
            let stored = bytes[offset..<offset + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) } &- 0xA282_EAD8
            return (stored << 15) | (stored >> 17)
        }
        while position < bytes.count {
            let length = Int(bytes[position..<position + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
            #expect(unmasked(position + 8) == CRC32C.checksum(bytes[position..<position + 8]))
            let data = Array(bytes[position + 12..<position + 12 + length])
            #expect(unmasked(position + 12 + length) == CRC32C.checksum(data))
            events.append(try ProtobufFields(data))
            position += 16 + length
        }
        #expect(position == bytes.count)
        return events
    }

    /// `(step, tag)` of every summary value in `events`.
    static func tags(_ events: [ProtobufFields]) throws -> [(step: Int, tag: String)] {
        try events.flatMap { event in
            try event.messages(5).flatMap { summary in try summary.messages(1).map { (event.int(2) ?? 0, $0.string(1) ?? "") } }
        }
    }

    static func eventFile(in folder: URL) throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(names.count == 1)
        let name = try #require(names.first)
        #expect(name.hasPrefix("events.out.tfevents.") && name.hasSuffix(".\(ProcessInfo.processInfo.processIdentifier)"))
        return folder.appendingPathComponent(name).path
    }

    @Test func trainingWritesKerasLayoutWithScalarsHistogramsAndFilters() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-tensorboard-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var model = try Model(inputShape: [6, 6, 1]) {
            Conv2D(2, kernelSize: 3, activation: .relu)
            Flatten()
            Dense(2, activation: .softmax)
        }
        model.compile(optimizer: SGD(learningRate: 0.1), loss: .sparseCategoricalCrossentropy(), metrics: [.accuracy])
        var generator = RandomGenerator(seed: 4)
        let x = Tensor.randomUniform(shape: [8, 6, 6, 1], generator: &generator)
        let history = try model.fit(x: x, y: [0, 1, 0, 1, 1, 0, 1, 0], epochs: 2, batchSize: 2, validationSplit: 0.25, shuffle: false,
                                    callbacks: [TensorBoard(logDirectory: folder.path)], verbosity: .silent)

        let train = try Self.events(in: try Self.eventFile(in: folder.appendingPathComponent("train")))
        #expect(train.first?.string(3) == "brain.Event:2")
        let trainTags = try Self.tags(train)
        // 6 training samples in batches of 2: 3 steps per epoch, numbered over the run.
        #expect(trainTags.filter { $0.tag == "batch_loss" }.map(\.step) == [1, 2, 3, 4, 5, 6])
        #expect(trainTags.filter { $0.tag == "batch_learning_rate" }.map(\.step) == [1, 2, 3, 4, 5, 6])
        for tag in ["epoch_loss", "epoch_accuracy", "epoch_learning_rate", "conv2d/kernel", "conv2d/bias", "dense/kernel",
                    "dense/bias", "conv2d/kernel/image"] {
            #expect(trainTags.filter { $0.tag == tag }.map(\.step) == [1, 2], "\(tag)")
        }
        // The epoch loss is the history's, as a float.
        let lossValues = try train.flatMap { event in
            try event.messages(5).flatMap { try $0.messages(1) }.filter { $0.string(1) == "epoch_loss" }
        }
        let logged = lossValues.compactMap { value -> Float? in
            if case let .fixed32(bits) = value.all(2).first { Float(bitPattern: bits) } else { nil }
        }
        #expect(logged == history["loss"].map { Float($0) })

        let validation = try Self.events(in: try Self.eventFile(in: folder.appendingPathComponent("validation")))
        #expect(try Self.tags(validation).map(\.tag).sorted() == ["epoch_accuracy", "epoch_accuracy", "epoch_loss", "epoch_loss"])
    }

    @Test func histogramCountsEveryFiniteValueOnce() throws {
        let value = TensorBoardEventWriter.Value.histogram("w", [-1, 0, 0.5, 1, 1, .nan], buckets: 4)
        var summary = ProtobufWriter()
        summary.message(1, value.encoded)
        let encodedValue = try #require(try ProtobufFields(summary.encoded).messages(1).first)
        let histogram = try #require(try encodedValue.messages(5).first)
        func doubles(_ field: Int) -> [Double] {
            guard case let .bytes(raw) = histogram.all(field).first else { return [] }
            return stride(from: 0, to: raw.count, by: 8).map { offset in
                Double(bitPattern: raw[offset..<offset + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
            }
        }
        func double(_ field: Int) -> Double? {
            if case let .fixed64(bits) = histogram.all(field).first { Double(bitPattern: bits) } else { nil }
        }
        #expect(double(1) == -1 && double(2) == 1 && double(3) == 5 && double(4) == 1.5 && double(5) == 3.25)
        #expect(doubles(6) == [-0.5, 0, 0.5, 1])
        // (-∞, -0.5]: -1; (-0.5, 0]: 0; (0, 0.5]: 0.5; (0.5, 1]: 1, 1.
        #expect(doubles(7) == [1, 1, 1, 2])
    }
}
