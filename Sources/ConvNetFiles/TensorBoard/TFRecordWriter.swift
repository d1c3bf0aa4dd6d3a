import ConvNetCore
import Foundation

/// Appends records to a TFRecord file, TensorFlow's framing for event files: each record is
/// `uint64 length` (little-endian), `uint32 masked_crc32c(length bytes)`, the data, and
/// `uint32 masked_crc32c(data)` (tensorflow/core/lib/io/record_writer.cc). The file is opened for
/// each append and closed again, so the writer is a plain value (`Sendable`) and every record that
/// was appended is in the file, whole, when `append` returns.
package struct TFRecordWriter: Sendable {
    /// The file written.
    package let path: String

    /// Creates (or empties) `path`; throws `ConvNetError.file` when it cannot be created.
    package init(creating path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw ConvNetError.file(path: path, message: "cannot create the event file")
        }
        self.path = path
    }

    /// The framed bytes of one record holding `data`.
    package static func frame(_ data: [UInt8]) -> [UInt8] {
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian) { Array($0) }
        var record = length
        withUnsafeBytes(of: CRC32C.masked(length).littleEndian) { record += $0 }
        record += data
        withUnsafeBytes(of: CRC32C.masked(data).littleEndian) { record += $0 }
        return record
    }

    /// Appends one record per element of `records`, in order.
    package func append(_ records: [[UInt8]]) throws {
        do {
            guard let handle = FileHandle(forWritingAtPath: path) else {
                throw ConvNetError.file(path: path, message: "cannot open the event file")
            }
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: records.flatMap(Self.frame))
        } catch let error as ConvNetError {
            throw error
        } catch {
            throw ConvNetError.file(path: path, message: "could not write: \(error.localizedDescription)")
        }
    }
}
