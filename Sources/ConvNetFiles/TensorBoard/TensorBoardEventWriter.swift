import ConvNetCore
import Foundation

/// Writes a TensorBoard event file: scalars, histograms and images, each an `Event` record of a
/// TFRecord file named `events.out.tfevents.<seconds>.<host>.<pid>`, as TensorFlow's summary
/// writers name them; TensorBoard reads every such file in a run's folder.
///
/// Messages and fields (tensorboard/compat/proto): `Event` wall_time = 1 (double), step = 2
/// (int64), file_version = 3 (`"brain.Event:2"`, the first record), summary = 5; `Summary`
/// value = 1; `Summary.Value` tag = 1, simple_value = 2 (float), image = 4, histo = 5;
/// `Summary.Image` height = 1, width = 2, colorspace = 3 (1 gray, 3 RGB), encoded_image_string = 4;
/// `HistogramProto` min = 1, max = 2, num = 3, sum = 4, sum_squares = 5, bucket_limit = 6 and
/// bucket = 7 (packed doubles).
public struct TensorBoardEventWriter: Sendable {
    private let file: TFRecordWriter
    /// The event file's path.
    public var path: String { file.path }

    /// Creates `directory` (and its parents) when missing and a new event file in it, starting
    /// with the `file_version` record.
    /// - Throws: `ConvNetError.file` naming the folder or file when either cannot be created.
    public init(directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ConvNetError.file(path: directory, message: "cannot create the folder: \(error.localizedDescription)")
        }
        let seconds = Int(Date().timeIntervalSince1970)
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
        let name = "events.out.tfevents.\(seconds).\(host).\(ProcessInfo.processInfo.processIdentifier)"
        file = try TFRecordWriter(creating: (directory as NSString).appendingPathComponent(name))
        var event = Self.event(step: 0)
        event.string(3, "brain.Event:2")
        try file.append([event.encoded])
    }

    /// One `Summary.Value`, as the scalar, histogram and image methods encode them.
    public struct Value: Sendable {
        /// The `Summary.Value` message.
        package let encoded: ProtobufWriter

        /// A scalar (`simple_value`), shown by TensorBoard's Scalars tab.
        public static func scalar(_ tag: String, _ value: Float) -> Value {
            var writer = ProtobufWriter()
            writer.string(1, tag)
            writer.float(2, value)
            return Value(encoded: writer)
        }

        /// A histogram of `values` (`HistogramProto`) over `buckets` equal-width buckets from their
        /// minimum to their maximum: `bucket_limit[i]` is bucket `i`'s right edge, `bucket[i]` its
        /// count (values equal to an edge count in the bucket to its left; all values in one
        /// bucket when they are equal). Non-finite values are left out.
        public static func histogram(_ tag: String, _ values: [Float], buckets: Int = 30) -> Value {
            let finite = values.filter(\.isFinite).map(Double.init)
            let low = finite.min() ?? 0, high = finite.max() ?? 0
            let count = high > low ? max(buckets, 1) : 1
            let width = (high - low) / Double(count)
            var limits = (1...count).map { low + Double($0) * width }
            limits[count - 1] = high
            var counts = [Double](repeating: 0, count: count)
            for value in finite {
                let index = width > 0 ? Int(((value - low) / width).rounded(.up)) - 1 : 0
                counts[min(max(index, 0), count - 1)] += 1
            }
            var histogram = ProtobufWriter()
            histogram.double(1, low)
            histogram.double(2, high)
            histogram.double(3, Double(finite.count))
            histogram.double(4, finite.reduce(0, +))
            histogram.double(5, finite.reduce(0) { $0 + $1 * $1 })
            histogram.packedDoubles(6, limits)
            histogram.packedDoubles(7, counts)
            var writer = ProtobufWriter()
            writer.string(1, tag)
            writer.message(5, histogram)
            return Value(encoded: writer)
        }

        /// An image (`Summary.Image`) from the bytes of a PNG file of `height × width` pixels with
        /// 1 (gray) or 3 (RGB) channels.
        public static func image(_ tag: String, png: [UInt8], height: Int, width: Int, channels: Int) -> Value {
            var writer = ProtobufWriter()
            writer.string(1, tag)
            writer.message(4) { image in
                image.int(1, height)
                image.int(2, width)
                image.int(3, channels)
                image.bytes(4, png)
            }
            return Value(encoded: writer)
        }
    }

    /// Appends one event at `step` holding `values` (nothing when it is empty).
    public func write(_ values: [Value], step: Int) throws {
        guard !values.isEmpty else { return }
        var summary = ProtobufWriter()
        for value in values { summary.message(1, value.encoded) }
        var event = Self.event(step: step)
        event.message(5, summary)
        try file.append([event.encoded])
    }

    /// An `Event` with the current wall time and `step`.
    private static func event(step: Int) -> ProtobufWriter {
        var event = ProtobufWriter()
        event.double(1, Date().timeIntervalSince1970)
        event.int(2, step)
        return event
    }
}
