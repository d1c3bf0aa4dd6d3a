import ConvNet
import Foundation
import Testing

/// Issue 22's bad inputs, faults and file-system tricks, one test per defect, each with files the
/// test makes itself: every one gives a one-line error naming the file or flag (exit 1, or 2 for
/// usage, through the tool), never a signal, a hang, a write through a link or a lost old file.
/// `scripts/hostile-inputs.sh` runs the same cases (and h5py-made ones) against the tool.
@Suite(.serialized) struct HostileInputTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-hostile-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs the tool and expects `status` with a first error line mentioning every fragment.
    func expectFailure(_ arguments: [String], status: Int32 = 1, mentions fragments: [String],
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try CommandLineTests.run(arguments)
        #expect(result.status == status, "\(arguments): exit \(result.status), stderr \(result.error)", sourceLocation: sourceLocation)
        // A failure is one line; a usage error adds ArgumentParser's usage lines after its first.
        let lines = result.error.split(separator: "\n")
        #expect(lines.first?.hasPrefix("Error: ") == true, "\(result.error)", sourceLocation: sourceLocation)
        #expect(status == 2 || lines.count == 1, "one line expected: \(result.error)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(result.error.contains(fragment), "\"\(result.error)\" should mention \"\(fragment)\"", sourceLocation: sourceLocation)
        }
    }

    /// Expects `body` to throw a `ConvNetError` whose text contains every fragment (BadInputTests' check).
    func expectError(_ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        BadInputTests().expectError(fragments, sourceLocation: sourceLocation, body)
    }

    // MARK: 1. Damaged checkpoints

    /// A checkpoint of a small Adam-trained model, and its contents to damage.
    func checkpoint(in folder: URL) throws -> (path: String, file: KerasWeightsFile) {
        var model = try CheckpointTests.model()
        model.compile(optimizer: Adam(learningRate: 0.01))
        let (x, y) = try TrainingTests.quadrants(count: 32, seed: 8)
        let path = folder.appendingPathComponent("ck.h5").path
        try model.fit(TensorDataset(inputs: x, labels: y), epochs: 1, batchSize: 16, callbacks: [CheckpointWriter(path: path)],
                      verbosity: .silent)
        return (path, try KerasWeightsFile.read(path))
    }

    @Test func checkpointWithSlotsOfTheWrongLengthOrMissing() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (path, file) = try checkpoint(in: folder)
        let slotKeys = file.extraDatasets.keys.filter { $0.hasPrefix("convnet_optimizer/dense/kernel/") }.sorted()
        #expect(slotKeys.count == 2)  // Adam: m and v
        for key in slotKeys {
            var damaged = file
            damaged.extraDatasets[key] = Tensor(shape: [1])
            let bad = folder.appendingPathComponent("wrong-length.h5").path
            try damaged.writeLegacy(to: bad)
            expectError([bad, "dense/kernel", "(1,)"]) { _ = try TrainingCheckpoint.load(from: bad) }
            damaged.extraDatasets[key] = nil
            try damaged.writeLegacy(to: bad)
            expectError([bad, "dense/kernel"]) { _ = try TrainingCheckpoint.load(from: bad) }
        }
        // The tool says the same, exit 1, before any training.
        var damaged = file
        damaged.extraDatasets[slotKeys[1]] = Tensor(shape: [3, 1])
        let bad = folder.appendingPathComponent("cli.h5").path
        try damaged.writeLegacy(to: bad)
        _ = path
        try expectFailure(["train", "--limit", "64", "--epochs", "2", "--resume", bad, "--quiet"], mentions: [bad, "dense/kernel"])
    }

    @Test func checkpointWithNegativeOrDamagedCounters() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (_, file) = try checkpoint(in: folder)
        let json = try #require(file.extraAttributes["convnet_checkpoint"])
        for (field, value) in [("epoch", "-5"), ("step", "-1"), ("shuffler", "[\"1\", \"x\", \"3\", \"4\"]")] {
            var state = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            state[field] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
            var damaged = file
            damaged.extraAttributes["convnet_checkpoint"] = String(decoding: try JSONSerialization.data(withJSONObject: state), as: UTF8.self)
            let bad = folder.appendingPathComponent("\(field).h5").path
            try damaged.writeLegacy(to: bad)
            expectError([bad, field]) { _ = try TrainingCheckpoint.load(from: bad) }
        }
        var damaged = file
        damaged.extraAttributes["convnet_metadata"] = "{\"classNames\": 7"
        let bad = folder.appendingPathComponent("metadata.h5").path
        try damaged.writeLegacy(to: bad)
        try expectFailure(["summary", "--model", bad], mentions: [bad, "convnet_metadata"])
    }

    // MARK: 2. A full disk during a save

    /// A file-size limit (`ulimit -f`, with SIGXFSZ ignored) makes writes fail as on a full disk.
    @Test func saveOntoAFullDiskKeepsTheOldFileAndTheProcess() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("out.h5").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: output))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "trap '' XFSZ; ulimit -f 100; exec \"$0\" convert \"$1\" \"$2\"",
                             CommandLineTests.binary, Fixtures.url("keras/lenet5.h5").path, output]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 1, "\(process.terminationStatus): \(message)")
        #expect(message.contains(output) && message.split(separator: "\n").count == 1, "\(message)")
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["out.h5"])
    }

    // MARK: 3. Planted links and leftover temporary files

    @Test func outputsReplacePlantedLinksInsteadOfWritingThroughThem() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let victim = folder.appendingPathComponent("victim.txt").path
        try Data("precious".utf8).write(to: URL(fileURLWithPath: victim))
        let model = try CheckpointTests.model()
        for name in ["out.h5", "out.csv"] {
            let output = folder.appendingPathComponent(name).path
            try FileManager.default.createSymbolicLink(atPath: output, withDestinationPath: victim)
            if name.hasSuffix(".h5") { try model.save(to: output) } else { try writeAtomically(Data("a,b\n".utf8), to: output) }
            let attributes = try FileManager.default.attributesOfItem(atPath: output)
            #expect(attributes[.type] as? FileAttributeType == .typeRegular, "\(name) is still a link")
            // The usual permissions (0666 less the umask), not mkstemp's 0600.
            let mask = umask(0)
            umask(mask)
            #expect((attributes[.posixPermissions] as? Int) == Int(0o666 & ~mask))
        }
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious")
    }

    @Test func temporaryFilesOfDeadWritersAreRemovedAtTheNextSave() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A process id that is not running: a child that has exited.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = child.processIdentifier, alive = ProcessInfo.processInfo.processIdentifier
        let names = [".out.h5\(AtomicFile.temporaryMarker)\(dead)-a1b2c3", "out.h5.tmp-\(dead)-1",
                     ".out.h5\(AtomicFile.temporaryMarker)\(alive)-zzzzzz", ".other.h5\(AtomicFile.temporaryMarker)\(dead)-a1b2c3"]
        for name in names { try Data("x".utf8).write(to: folder.appendingPathComponent(name)) }
        try CheckpointTests.model().save(to: folder.appendingPathComponent("out.h5").path)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
        // The dead writer's files of out.h5 are gone; a running process's, and another target's, stay.
        #expect(left == ["out.h5", names[2], names[3]])
    }

    // MARK: 4. Damaged model files

    @Test func flippedBytesOfAKerasModelFileGiveErrors() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = try [UInt8](Data(contentsOf: Fixtures.url("keras/lenet5.h5")))
        let path = folder.appendingPathComponent("damaged.h5").path
        // The byte (a SIGSEGV in memcpy before), then random damage with a fixed seed.
        var damaged = original
        damaged[8215] = 0x1E
        try Data(damaged).write(to: URL(fileURLWithPath: path))
        let first = try CommandLineTests.run(["summary", "--model", path])
        #expect(first.status == 0 || (first.status == 1 && first.error.contains(path)), "\(first.status): \(first.error)")
        var generator = RandomGenerator(seed: 22)
        for round in 0..<24 {
            damaged = original
            for _ in 0..<4 {
                damaged[Int(generator.next() % UInt64(damaged.count))] = UInt8(truncatingIfNeeded: generator.next())
            }
            try Data(damaged).write(to: URL(fileURLWithPath: path))
            let result = try CommandLineTests.run(["summary", "--model", path])
            #expect(result.status == 0 || result.status == 1, "round \(round): exit \(result.status), \(result.error)")
            #expect(result.status == 0 || result.error.split(separator: "\n").count == 1, "round \(round): \(result.error)")
        }
    }

    /// The hdf5 fuzz target's finding of 2026-12-02: libhdf5 1.10 follows a local heap's free list
    /// (a group's link names) without noticing a cycle, allocating a node per step until memory
    /// runs out (22 GB in `convnet predict` on a 29 KB file). Every local heap of the LeNet-5 file
    /// gets a free block that names itself as the next one (lengths and offsets of 8 bytes, as the
    /// superblock says: `HEAP`, version 0, 3 reserved bytes, segment size, free-list head,
    /// segment address).
    @Test func aLocalHeapFreeListInACircleIsRefused() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var bytes = try [UInt8](Data(contentsOf: Fixtures.url("keras/lenet5.h5")))
        func integer(at offset: Int) -> Int { (0..<8).reversed().reduce(0) { $0 << 8 | Int(bytes[offset + $1]) } }
        func write(_ value: Int, at offset: Int) { for i in 0..<8 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) } }
        var heaps = 0
        for start in 0..<(bytes.count - 32) where Array(bytes[start..<start + 4]) == Array("HEAP".utf8) && bytes[start + 4] == 0 {
            let (size, segment) = (integer(at: start + 8), integer(at: start + 24))
            guard size >= 16, segment + size <= bytes.count else { continue }
            let block = (size - 16) / 8 * 8  // the segment's last 16 bytes: next = itself, size 16
            write(block, at: start + 16)
            write(block, at: segment + block)
            write(16, at: segment + block + 8)
            heaps += 1
        }
        #expect(heaps > 0, "the fixture has local heaps")
        let (path, result) = try Self.summary(ofDamaged: bytes, named: "circle.h5", in: folder)
        #expect(result.status == 1, "\(result.status): \(result.error)")
        #expect(result.error.contains(path) && result.error.contains("free list of the local heap"), "\(result.error)")
    }

    /// The hdf5 fuzz target's finding of 2026-12-03: libhdf5 1.10 checks a metadata read against
    /// the end of the file by `address + size`, which wraps for the undefined address (all ones),
    /// and then copies into a null buffer: a segmentation fault in `H5Gget_info`. The LeNet-5
    /// file damaged at the bytes the HDF5 format puts them (8-byte lengths and addresses), each
    /// of which crashed `convnet summary` before the check: every group B-tree node's first child
    /// (`TREE`, type 0, level, entries used, two siblings, the first key, then the child), or every
    /// local heap's data segment (`HEAP`, version 0, 3 reserved bytes, size, free-list head, address).
    @Test(arguments: ["TREE", "HEAP"]) func addressesThatWrapAroundAreRefused(_ structure: String) throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var bytes = try [UInt8](Data(contentsOf: Fixtures.url("keras/lenet5.h5")))
        var damaged = 0
        for start in 0..<(bytes.count - 40) where Array(bytes[start..<start + 4]) == Array(structure.utf8) && bytes[start + 4] == 0 {
            let childrenInUse = Int(bytes[start + 6]) | Int(bytes[start + 7]) << 8
            guard structure == "HEAP" || childrenInUse > 0 else { continue }
            let address = start + (structure == "TREE" ? 8 + 16 + 8 : 8 + 8 + 8)
            for i in 0..<8 { bytes[address + i] = 0xff }
            damaged += 1
        }
        #expect(damaged > 0, "the fixture has \(structure) structures")
        let (path, result) = try Self.summary(ofDamaged: bytes, named: "wrap.h5", in: folder)
        #expect(result.status == 1, "\(result.status): \(result.error)")
        #expect(result.error.contains(path) && result.error.contains("wrap around 2^64"), "\(result.error)")
        #expect(result.error.split(separator: "\n").count == 1, "\(result.error)")
    }

    /// Writes `bytes` as `name` in `folder` and runs `convnet summary --model` on it.
    static func summary(ofDamaged bytes: [UInt8], named name: String, in folder: URL) throws -> (path: String, result: CommandLineTests.Run) {
        let path = folder.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (path, try CommandLineTests.run(["summary", "--model", path]))
    }

    @Test func datasetsDeclaringMoreThanMemoryAreRefused() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("huge.h5").path
        try HDF5File.write(to: path) { file in
            try file.createDataset("weights", shape: [1 << 20, 1 << 20], chunks: [64, 64])
        }
        expectError([path, "weights", "(1048576, 1048576)", "4398046511104 bytes"]) {
            _ = try HDF5File.read(path) { try $0.readTensor("weights") }
        }
    }

    /// The hdf5 fuzz target's finding: libhdf5 1.10 allocates for a variable-length string what
    /// the file declares (its length, times its character type's size) before reading it, so one
    /// damaged field asked for tens of gigabytes. A file with one such attribute, damaged three
    /// ways at the bytes the HDF5 format puts them (the attribute's raw element: 4-byte length,
    /// 8-byte global heap collection address, 4-byte object index; the datatype message: a
    /// version-1 variable-length string of 16 bytes whose base type is a 1-byte integer).
    @Test func damagedVariableLengthStringsAreRefusedBeforeLibhdf5AllocatesForThem() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("strings.h5").path
        let text = "a variable-length string of 43 characters.."
        try HDF5File.write(to: path) { try $0.writeString(text, attribute: "model_config", of: "/") }
        #expect(try HDF5File.read(path) { try $0.readString(attribute: "model_config", of: "/") } == text)
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))

        func find(_ pattern: [UInt8?]) -> Int? {
            (0...(original.count - pattern.count)).first { start in
                pattern.indices.allSatisfy { pattern[$0] == nil || original[start + $0] == pattern[$0] }
            }
        }
        func littleEndian(_ value: UInt64, bytes: Int) -> [UInt8] { (0..<bytes).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        let collection = try #require(find(Array("GCOL".utf8)))
        let element = try #require(find(littleEndian(UInt64(text.utf8.count), bytes: 4) + littleEndian(UInt64(collection), bytes: 8)))
        let datatype = try #require(find([0x19, nil, nil, nil, 16, 0, 0, 0, 0x10, nil, nil, nil, 1, 0, 0, 0]))
        let damages: [(offset: Int, bytes: [UInt8], mentions: String)] = [
            (element, littleEndian(0x7FFF_FFF0, bytes: 4), "declares 2147483632 bytes, its global heap object holds 43"),
            (element + 12, littleEndian(999, bytes: 4), "global heap object 999"),
            (datatype + 12, littleEndian(1 << 30, bytes: 4), "1073741824-byte characters"),
        ]
        for damage in damages {
            var damaged = original
            damaged.replaceSubrange(damage.offset..<damage.offset + damage.bytes.count, with: damage.bytes)
            let bad = folder.appendingPathComponent("damaged.h5").path
            try Data(damaged).write(to: URL(fileURLWithPath: bad))
            expectError([bad, "model_config", damage.mentions]) {
                _ = try HDF5File.read(bad) { try $0.readString(attribute: "model_config", of: "/") }
            }
        }
    }

    /// The hdf5 fuzz target's second finding: a float dataset whose datatype message declares
    /// 1677721601-byte elements made libhdf5 1.10 fill a conversion buffer of that size per
    /// element (1.7 GB for a 4-element weight). The message of a little-endian IEEE float32 is
    /// found by its bytes (version 1, class 1, flags 0x20 0x1F 0x00, size 4, bit offset 0,
    /// precision 32, exponent at 23 of 8 bits, mantissa at 0 of 23 bits, bias 127).
    @Test func numbersOfImpossibleSizeAreRefusedBeforeLibhdf5ConvertsThem() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("weights.h5").path
        let weights = try Tensor(shape: [4], scalars: [1, 2, 3, 4])
        try HDF5File.write(to: path) { try $0.write(weights, to: "beta") }
        #expect(try HDF5File.read(path) { try $0.readTensor("beta") }.scalars == weights.scalars)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let message: [UInt8] = [0x11, 0x20, 0x1F, 0x00, 4, 0, 0, 0, 0, 0, 32, 0, 23, 8, 0, 23, 127, 0, 0, 0]
        let start = try #require((0...(bytes.count - message.count)).first { bytes[$0..<$0 + message.count].elementsEqual(message) })
        bytes.replaceSubrange(start + 4..<start + 8, with: [0x01, 0x00, 0x00, 0x64])  // 0x64000001 = 1677721601
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        expectError([path, "beta", "numbers of 1677721601 bytes each"]) { _ = try HDF5File.read(path) { try $0.readTensor("beta") } }
    }

    @Test func linkCyclesInGroupsAreFoundNotFollowedForever() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("cycle.h5").path
        // A legacy model file whose convnet_optimizer group holds 8 hard links back to itself:
        // 8^depth paths, endless for a walk that follows them.
        try HDF5File.write(to: path) { file in
            try file.createGroup("model_weights")
            try file.writeStrings([], attribute: "layer_names", of: "model_weights")
            try file.createGroup("convnet_optimizer/dense")
            for index in 0..<8 { try file.createHardLink(to: "convnet_optimizer", at: "convnet_optimizer/dense/loop\(index)") }
        }
        let started = Date()
        expectError([path, "convnet_optimizer", "link cycle"]) { _ = try KerasWeightsFile.read(path) }
        #expect(Date().timeIntervalSince(started) < 10)
    }

    /// The hdf5 fuzz target's third finding: a damaged link name that reads as empty made the walk
    /// over `convnet_optimizer` recurse into the same group forever (a stack overflow), since the
    /// empty name joined to the group's path is the group itself. The name, stored NUL-terminated
    /// in the group's local heap, is emptied by its first byte.
    @Test func emptyLinkNamesAreRefusedNotWalkedForever() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("names.h5").path
        let name = "zz_a_distinctive_link_name"
        try HDF5File.write(to: path) { file in
            try file.createGroup("model_weights")
            try file.writeStrings([], attribute: "layer_names", of: "model_weights")
            try file.createGroup("convnet_optimizer/dense/\(name)")
        }
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let stored = Array(name.utf8) + [0]
        let start = try #require((0...(bytes.count - stored.count)).first { bytes[$0..<$0 + stored.count].elementsEqual(stored) })
        bytes[start] = 0
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        expectError([path, "convnet_optimizer/dense", "a member named ''"]) { _ = try KerasWeightsFile.read(path) }
    }

    // MARK: 5. Unchecked numbers

    @Test func schedulesWithNonFiniteOrHugeNumbersAreRefused() throws {
        for text in ["cosine:nan", "cosine:inf", "step:0.5:1e30", "step:0.5:0", "step:nan:2", "exponential:inf", "piecewise:2:1,nan"] {
            expectError(["--schedule \(text)"]) { _ = try LearningRateSchedule(parsing: text, epochs: 5) }
        }
        #expect(try LearningRateSchedule(parsing: "step:0.5:2", epochs: 5) == .staircase(k: 0.5, every: 2))
        try expectFailure(["train", "--limit", "64", "--schedule", "cosine:nan"], status: 2, mentions: ["--schedule", "cosine:nan"])
        for flags in [["--lr", "inf"], ["--l2", "inf"], ["--momentum", "nan"], ["--l1", "nan"]] {
            try expectFailure(["train", "--limit", "64"] + flags, status: 2, mentions: [flags[0]])
        }
        try expectFailure(["summary", "--model", "lenet5", "--classes", "100000000000"], mentions: ["dense", "bytes"])
        try expectFailure(["summary", "--model", "vgg16", "--input", "100000x100000x3"], mentions: ["bytes"])
    }

    @Test func kerasConfigsWithImpossibleSizesAreRefused() throws {
        let model = try Model(inputShape: [12, 12, 1]) {
            Conv2D(2, kernelSize: 3)
            Flatten()
            Dense(3, activation: .softmax)
        }
        let json = try KerasModelJSON.json(for: model)
        func variant(_ edit: (inout [String: Any]) -> Void) throws -> String {
            var object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            var config = try #require(object["config"] as? [String: Any])
            var layers = try #require(config["layers"] as? [[String: Any]])
            for index in layers.indices {
                var layer = layers[index]
                var inner = try #require(layer["config"] as? [String: Any])
                inner["__class"] = layer["class_name"]
                edit(&inner)
                inner["__class"] = nil
                layer["config"] = inner
                layers[index] = layer
            }
            config["layers"] = layers
            object["config"] = config
            return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        func conv(_ key: String, _ value: Any) throws -> String {
            try variant { if $0["__class"] as? String == "Conv2D" { $0[key] = value } }
        }
        let cases: [(String, String)] = [
            (try conv("strides", [0, 0]), "stride"), (try conv("kernel_size", [0, 0]), "kernel"),
            (try conv("dilation_rate", [0, 0]), "dilation"), (try conv("filters", -3), "filters"),
            (try variant { if $0["__class"] as? String == "Dense" { $0["units"] = 1 << 62 } }, "bytes"),
            (try variant { if $0["__class"] as? String == "InputLayer" { $0["batch_shape"] = [NSNull(), -12, 12, 1] } }, "positive"),
        ]
        for (config, fragment) in cases {
            expectError([fragment]) { _ = try KerasModelJSON.model(fromJSON: config) }
        }
    }

    @Test func allocationsDrivenByInputAreBoundedWithoutOverflow() {
        expectError(["weights", "(4611686018427387904, 4)", "bytes"]) {
            _ = try AllocationLimit.elementCount([1 << 62, 4], elementSize: 4, "weights")
        }
        expectError(["negative"]) { _ = try AllocationLimit.elementCount([3, -1], elementSize: 4, "weights") }
        #expect((try? AllocationLimit.elementCount([3, 4], elementSize: 4, "weights")) == 12)
    }

    // MARK: Also mishandled

    @Test func gzipBombsAreRefusedFromTheirFirstBytes() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A wrong magic number followed by 64 MB of zeros: refused after the first chunk.
        let path = folder.appendingPathComponent("train-images-idx3-ubyte.gz").path
        try Data(try Gzip.compress([0, 0, 8, 9] + [UInt8](repeating: 0, count: 64 << 20), level: 9)).write(to: URL(fileURLWithPath: path))
        var calls = 0
        expectError([path, "magic number 0x00000809"]) {
            _ = try Gzip.readFile(atPath: path) { prefix in
                calls += 1
                #expect(prefix.count <= 1 << 18)
                throw ConvNetError.file(path: path, message: "magic number 0x00000809")
            }
        }
        #expect(calls == 1)
        expectError([path, "magic number 0x00000809, expected 0x00000803"]) { _ = try IDX.readImages(path: path) }
        // A right header declaring 2 images of 28x28 with 64 MB behind it: stops at the declared size.
        try Data(try Gzip.compress([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28] + [UInt8](repeating: 0, count: 64 << 20)))
            .write(to: URL(fileURLWithPath: path))
        expectError([path, "1584 bytes"]) { _ = try IDX.readImages(path: path) }
        // Found by fuzzing: 0 images of 3,724,148,735 x 3,690,968,926 pixels passed the size
        // check (0 bytes of data) and overflowed computing one image's size.
        try Data([0, 0, 8, 3, 0, 0, 0, 0, 0xDD, 0xF9, 0xFF, 0xFF, 0xDB, 0xFF, 0xB7, 0x5E]).write(to: URL(fileURLWithPath: path))
        expectError([path, "one IDX image", "bytes"]) { _ = try IDX.readImages(path: path) }
    }

    @Test func imagesAboveThePixelLimitAreRefusedBeforeDecoding() throws {
        let png = try ImageCodec.encodePNG(Tensor(shape: [40, 30, 1], repeating: 128))
        let jpeg = try ImageCodec.encodeJPEG(Tensor(shape: [40, 30, 3], repeating: 128))
        let saved = ImageCodec.maximumPixels
        defer { ImageCodec.maximumPixels = saved }
        #expect(saved == 89_478_485)  // Pillow's MAX_IMAGE_PIXELS
        ImageCodec.maximumPixels = 1000
        expectError(["a.png", "1200 pixels", "1000"]) { _ = try ImageCodec.decode(bytes: png, source: "a.png") }
        expectError(["a.jpg", "1200 pixels", "1000"]) { _ = try ImageCodec.decode(bytes: jpeg, source: "a.jpg") }
        ImageCodec.maximumPixels = 1200
        #expect(try ImageCodec.decode(bytes: png, source: "a.png").shape == [40, 30, 1])
        // A 20000x20000 header is refused from the header alone, whatever follows.
        var huge = png
        huge.replaceSubrange(16..<24, with: [0, 0, 0x4E, 0x20, 0, 0, 0x4E, 0x20])
        let checksum = Self.crc32(huge[12..<29])  // of the IHDR chunk's type and data
        huge.replaceSubrange(29..<33, with: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: checksum >> $0) })
        ImageCodec.maximumPixels = saved
        expectError(["huge.png", "400000000 pixels"]) { _ = try ImageCodec.decode(bytes: huge, source: "huge.png") }
    }

    /// CRC-32 (ISO 3309, as PNG chunks use), bit by bit.
    static func crc32(_ bytes: some Collection<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    @Test func usageErrorsAreFoundBeforeAnyWork() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try expectFailure(["train", "--limit", "64", "--log", folder.path], status: 2, mentions: ["--log", "folder"])
        try expectFailure(["train", "--limit", "64", "--save", folder.appendingPathComponent("missing/m.h5").path], status: 2, mentions: ["--save"])
        try expectFailure(["train", "--limit", "64", "--preprocessing", "bogus"], status: 2, mentions: ["--preprocessing"])
        try expectFailure(["train", "--limit", "64", "--augmentations", "bogus"], status: 2, mentions: ["--augmentations"])
    }

    @Test func degenerateDataIsRefused() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // One class only.
        let single = folder.appendingPathComponent("single/only")
        try FileManager.default.createDirectory(at: single, withIntermediateDirectories: true)
        for index in 0..<3 {
            try ImageCodec.write(Tensor(shape: [28, 28, 1], repeating: Float(index * 50)), to: single.appendingPathComponent("\(index).png").path)
        }
        try expectFailure(["train", "--dataset", folder.appendingPathComponent("single").path, "--epochs", "1", "--quiet"],
                          mentions: ["1 class", "2"])
        // Labels stored as floating-point numbers.
        let signs = folder.appendingPathComponent("float-labels.h5").path
        try HDF5File.write(to: signs) { file in
            try file.write(HDF5Array<UInt8>(shape: [4, 28, 28, 1], values: [UInt8](repeating: 0, count: 4 * 784)), to: "train_set_x")
            try file.write(Tensor([0.5, 1.7, 0, 1]), to: "train_set_y")
        }
        try expectFailure(["train", "--dataset", signs, "--epochs", "1", "--quiet"], mentions: [signs, "train_set_y", "integer"])
        // Images of another size in the test split than in the training split.
        let idx = folder.appendingPathComponent("mixed")
        try FileManager.default.createDirectory(at: idx, withIntermediateDirectories: true)
        try IDX.writeImages(Tensor(shape: [4, 28, 28, 1]), path: idx.appendingPathComponent("train-images-idx3-ubyte").path)
        try IDX.writeLabels([0, 1, 2, 3], path: idx.appendingPathComponent("train-labels-idx1-ubyte").path)
        try IDX.writeImages(Tensor(shape: [2, 20, 20, 1]), path: idx.appendingPathComponent("t10k-images-idx3-ubyte").path)
        try IDX.writeLabels([0, 1], path: idx.appendingPathComponent("t10k-labels-idx1-ubyte").path)
        try expectFailure(["train", "--dataset", "mnist", "--data-dir", idx.path, "--epochs", "1", "--quiet"],
                          mentions: ["20x20", "28x28"])
    }

    @Test func anExplodingLossStopsTheRunWithoutSaving() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let saved = folder.appendingPathComponent("m.h5").path
        try expectFailure(["train", "--limit", "512", "--epochs", "3", "--lr", "1e6", "--save", saved, "--quiet"], mentions: ["loss"])
        #expect(!FileManager.default.fileExists(atPath: saved))
    }
}
