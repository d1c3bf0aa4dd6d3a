import ConvNetCore
import Foundation
import Synchronization
import ZIPFoundation

/// A Keras 3 native model file (`model.save("m.keras")`): a zip archive, read and written with
/// ZIPFoundation, holding three members, as Keras 3's `saving_lib` writes them:
///
///     metadata.json      {"keras_version": ..., "date_saved": ...}; ConvNet adds "convnet_metadata"
///     config.json        the model's serialized config: {"module": "keras", "class_name": "Sequential",
///                        "config": {...}, "registered_name": null, "build_config": {...}}
///     model.weights.h5   the weights in Keras 3's `.weights.h5` layout (`layers/<key>/vars/<i>`)
///
/// Keras stores the members uncompressed; so does ConvNet. Keras reads `config.json` and
/// `model.weights.h5` and ignores other keys of `metadata.json`, where ConvNet keeps its
/// `ModelMetadata` (preprocessing, class names). A fourth member would make Keras look for assets.
struct KerasArchive {
    static let configMember = "config.json"
    static let metadataMember = "metadata.json"
    static let weightsMember = "model.weights.h5"
    /// The key of `metadata.json` that holds ConvNet's `ModelMetadata`; Keras ignores it.
    static let convNetMetadataKey = "convnet_metadata"
    /// `config.json` and `metadata.json` larger than this are refused before they are read: a
    /// damaged or hostile archive cannot make ConvNet allocate gigabytes for a text member.
    static let textMemberLimit = 64 << 20

    /// The model's config (`config.json`), unparsed.
    var config: String
    /// The weights, layers in the config's order under their config names.
    var weights: KerasWeightsFile
    /// ConvNet's metadata from `metadata.json`, when present.
    var metadata: ModelMetadata?
    /// `keras_version` from `metadata.json`.
    var kerasVersion: String?

    // MARK: Reading

    /// Reads a `.keras` file. Errors are one line naming `path` (and the member, for a damaged one).
    static func read(_ path: String) throws -> KerasArchive {
        let archive = try open(path)
        let config = try text(of: configMember, in: archive, path: path)
        let metadataObject = try archive[metadataMember] == nil ? nil : parseMetadata(text(of: metadataMember, in: archive, path: path), path: path)
        let weights = try withExtractedWeights(of: archive, path: path) { weightsPath in
            try KerasWeightsFile.read(weightsPath, modelConfig: config)
        }
        var metadata: ModelMetadata?
        if let stored = metadataObject?[convNetMetadataKey] {
            do {
                metadata = try JSONDecoder().decode(ModelMetadata.self, from: Data(stored.jsonText().utf8))
            } catch {
                throw ConvNetError.file(path: path, message: "\(metadataMember): \(convNetMetadataKey) is not ConvNet metadata (\(error))")
            }
        }
        return KerasArchive(config: config, weights: weights, metadata: metadata, kerasVersion: metadataObject?["keras_version"]?.string)
    }

    /// Opens `path` as a zip archive for reading.
    private static func open(_ path: String) throws -> Archive {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConvNetError.file(path: path, message: "no such file")
        }
        guard !isDirectory.boolValue else { throw ConvNetError.file(path: path, message: "is a folder, expected a .keras file") }
        do {
            return try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw ConvNetError.file(path: path, message: "not a Keras .keras file: cannot read it as a zip archive (\(describe(error)))")
        }
    }

    /// The entry `member`, or an error listing what the archive holds.
    private static func entry(_ member: String, in archive: Archive, path: String) throws -> Entry {
        guard let entry = archive[member] else {
            let found = archive.map(\.path).sorted()
            throw ConvNetError.file(path: path, message: "not a Keras .keras file: the archive has no \(member) "
                                    + "(it holds \(found.isEmpty ? "nothing" : found.joined(separator: ", ")))")
        }
        guard entry.type == .file else { throw ConvNetError.file(path: path, message: "\(member) in the archive is not a file") }
        return entry
    }

    /// The UTF-8 text of a small member, CRC-checked.
    private static func text(of member: String, in archive: Archive, path: String) throws -> String {
        let entry = try entry(member, in: archive, path: path)
        guard entry.uncompressedSize <= textMemberLimit else {
            throw ConvNetError.file(path: path, message: "\(member) declares \(entry.uncompressedSize) bytes, more than the \(textMemberLimit >> 20) MiB a config may have")
        }
        var data = Data()
        do {
            try verify(entry, checksum: archive.extract(entry) { chunk in
                guard data.count + chunk.count <= textMemberLimit else { throw ArchiveLimitExceeded() }
                data.append(chunk)
            })
        } catch {
            throw ConvNetError.file(path: path, message: "damaged archive: cannot read \(member) (\(describe(error)))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConvNetError.file(path: path, message: "\(member) is not UTF-8 text")
        }
        return text
    }

    private static func parseMetadata(_ text: String, path: String) throws -> [String: KerasValue] {
        guard let object = (try? KerasValue.parse(json: text, what: metadataMember))?.object else {
            throw ConvNetError.file(path: path, message: "\(metadataMember) is not a JSON object")
        }
        return object
    }

    /// Extracts `model.weights.h5` into a fresh temporary folder (libhdf5 reads files, not
    /// streams), runs `body` on it and removes the folder. Errors about the extracted file are
    /// reported against the archive: `m.keras (model.weights.h5): ...`.
    private static func withExtractedWeights<T>(of archive: Archive, path: String, _ body: (String) throws -> T) throws -> T {
        let entry = try entry(weightsMember, in: archive, path: path)
        let folder = try temporaryFolder(near: NSTemporaryDirectory(), path: path)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let weightsPath = folder + "/" + weightsMember
        do {
            try verify(entry, checksum: archive.extract(entry, to: URL(fileURLWithPath: weightsPath), bufferSize: 1 << 20))
        } catch {
            throw ConvNetError.file(path: path, message: "damaged archive: cannot extract \(weightsMember) (\(describe(error)))")
        }
        do {
            return try body(weightsPath)
        } catch let ConvNetError.file(errorPath, message) where errorPath == weightsPath {
            throw ConvNetError.file(path: "\(path) (\(weightsMember))", message: message)
        } catch let ConvNetError.argument(message) {  // config.json, read to order the weights
            throw ConvNetError.file(path: path, message: "\(configMember): \(message)")
        }
    }

    /// ZIPFoundation computes each member's CRC-32 while extracting and returns it; the comparison
    /// with the stored one is the caller's.
    private static func verify(_ entry: Entry, checksum: CRC32) throws {
        guard checksum == entry.checksum else { throw Archive.ArchiveError.invalidCRC32 }
    }

    // MARK: Writing

    /// Writes the archive, atomically replacing `path`: the members go to a temporary zip beside
    /// `path`, which is synced and renamed onto it only when complete, so an existing file is never
    /// left half-written.
    func write(to path: String) throws {
        let folder = try Self.temporaryFolder(near: (path as NSString).deletingLastPathComponent, path: path)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let weightsPath = folder + "/" + Self.weightsMember
        try weights.writeKeras3Weights(to: weightsPath)
        let zipPath = folder + "/archive.keras"
        do {
            let archive = try Archive(url: URL(fileURLWithPath: zipPath), accessMode: .create)
            for (member, text) in [(Self.metadataMember, try metadataJSON()), (Self.configMember, config)] {
                let data = Data(text.utf8)
                try archive.addEntry(with: member, type: .file, uncompressedSize: Int64(data.count)) { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
            }
            try archive.addEntry(with: Self.weightsMember, fileURL: URL(fileURLWithPath: weightsPath), bufferSize: 1 << 20)
        } catch let error as ConvNetError {
            throw error
        } catch {
            throw ConvNetError.file(path: path, message: "cannot write the zip archive: \(Self.describe(error))")
        }
        do {
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: zipPath))
            try handle.synchronize()
            try handle.close()
        } catch {
            throw ConvNetError.file(path: path, message: "cannot sync the archive to disk: \(error.localizedDescription)")
        }
        guard rename(zipPath, path) == 0 else {
            throw ConvNetError.file(path: path, message: "cannot move the archive into place: \(String(cString: strerror(errno)))")
        }
    }

    /// `metadata.json`: Keras's two keys, plus ConvNet's metadata when there is some.
    private func metadataJSON() throws -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd@HH:mm:ss"  // Keras: strftime("%Y-%m-%d@%H:%M:%S")
        var object: [String: KerasValue] = [
            "keras_version": .string(kerasVersion ?? KerasWeightsFile.defaultKerasVersion),
            "date_saved": .string(formatter.string(from: Date())),
        ]
        if let metadata {
            object[Self.convNetMetadataKey] = try JSONDecoder().decode(KerasValue.self, from: JSONEncoder().encode(metadata))
        }
        return try KerasValue.object(object).jsonText()
    }

    // MARK: Helpers

    private static let temporaryCounter = Atomic<Int>(0)

    /// A new, empty folder in `parent` for the temporary files of one read or write of `path`.
    private static func temporaryFolder(near parent: String, path: String) throws -> String {
        let serial = temporaryCounter.add(1, ordering: .relaxed).newValue
        let name = ".\((path as NSString).lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(serial)"
        let folder = (parent.isEmpty ? "." : parent) + "/" + name
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        } catch {
            throw ConvNetError.file(path: path, message: "cannot create the temporary folder \(folder): \(error.localizedDescription)")
        }
        return folder
    }

    /// ZIPFoundation's errors in words.
    private static func describe(_ error: any Error) -> String {
        switch error {
        case let error as Archive.ArchiveError:
            switch error {
            case .unreadableArchive: return "unreadable or damaged zip data"
            case .missingEndOfCentralDirectoryRecord: return "no zip central directory: truncated, or not a zip file"
            case .invalidCRC32: return "CRC-32 mismatch: the data is damaged"
            case .invalidCompressionMethod: return "unsupported compression method"
            default: return "\(error)"
            }
        case is ArchiveLimitExceeded: return "larger than declared"
        case let error as ConvNetError: return error.description
        default: return (error as NSError).localizedDescription
        }
    }
}

/// Thrown from a consumer to stop reading a member that delivers more than its limit.
private struct ArchiveLimitExceeded: Error {}
