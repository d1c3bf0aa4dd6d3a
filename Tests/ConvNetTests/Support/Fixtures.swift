import ConvNet
import Foundation
import Testing

/// The test fixtures kept in the repository (`Tests/ConvNetTests/Fixtures/`, found relative to this
/// file): the lecture notes' worked examples and a LeNet-5 trained by Keras 3.15 with its expected outputs.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// A fixture file by its path under `Fixtures/`, e.g. `keras/lenet5.h5`.
    static func url(_ relativePath: String) -> URL { directory.appendingPathComponent(relativePath) }

    /// The Keras LeNet-5 fixtures (`lenet5.h5`, `lenet5.weights.h5`, `lenet5.expected.json`).
    static let keras = url("keras")

    /// The lecture notes' worked examples (`seed_examples.json`), each recomputed independently in float64.
    static func seedExamples() throws -> [String: Any] {
        let url = url("seed_examples.json")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw FixtureError("missing fixture \(url.path)")
        }
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw FixtureError("\(url.path) is not a JSON object")
        }
        return object
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Reads numbers out of decoded JSON.
enum JSONValue {
    static func matrix(_ value: Any?) throws -> [[Float]] {
        guard let rows = value as? [[NSNumber]] else { throw FixtureError("expected a matrix, got \(String(describing: value))") }
        return rows.map { $0.map(\.floatValue) }
    }

    static func vector(_ value: Any?) throws -> [Float] {
        guard let values = value as? [NSNumber] else { throw FixtureError("expected a vector, got \(String(describing: value))") }
        return values.map(\.floatValue)
    }

    static func ints(_ value: Any?) throws -> [Int] {
        guard let values = value as? [NSNumber] else { throw FixtureError("expected integers, got \(String(describing: value))") }
        return values.map(\.intValue)
    }

    static func number(_ value: Any?) throws -> Double {
        guard let number = value as? NSNumber else { throw FixtureError("expected a number, got \(String(describing: value))") }
        return number.doubleValue
    }
}

extension Tensor {
    /// One channel of one image, `(1, rows, columns, 1)`, from a [row][column] matrix.
    static func image(_ rows: [[Float]]) throws -> Tensor {
        try Tensor(shape: [1, rows.count, rows.first?.count ?? 0, 1], scalars: rows.flatMap { $0 })
    }

    /// A `(k_h, k_w, 1, 1)` kernel from a [row][column] matrix.
    static func kernel(_ rows: [[Float]]) throws -> Tensor {
        try Tensor(shape: [rows.count, rows.first?.count ?? 0, 1, 1], scalars: rows.flatMap { $0 })
    }
}

/// `|a − b| ≤ absolute + relative · max(|a|, |b|)` for every pair.
func allClose(_ a: [Float], _ b: [Float], absolute: Float = 1e-5, relative: Float = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= absolute + relative * max(abs($0), abs($1)) }
}

/// The largest element-wise difference, for failure messages.
func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
