import Foundation

extension Model {
    /// One row of the summary table.
    public struct SummaryRow: Sendable, Equatable {
        /// `name (ClassName)`, as in Keras's table.
        public let layer: String
        /// The output shape with the batch axis, `(None, 28, 28, 6)`.
        public let outputShape: String
        /// The number of weights in the layer.
        public let parameters: Int
        /// The inputs of a functional model's layer (`conv2d[0][0]`), empty for chains.
        public let connectedTo: [String]
        /// Whether the layer's weights are trained (`Layer.trainable`); `nil` for a layer without weights.
        public let trainable: Bool?
    }

    /// The rows of `summary()`: one per layer (functional models start with their input layer).
    public var summaryRows: [SummaryRow] {
        var rows: [SummaryRow] = []
        let inputName = "input_layer"
        if !isSequential {
            rows.append(SummaryRow(layer: "\(inputName) (InputLayer)", outputShape: describe(layerShape: inputShape),
                                   parameters: 0, connectedTo: [], trainable: nil))
        }
        for (index, layer) in layers.enumerated() {
            let sources = inbound[index].map { $0 == Self.inputNode ? inputName : layers[$0].name }
            rows.append(SummaryRow(layer: "\(layer.name) (\(layer.kerasClassName))", outputShape: describe(layerShape: outputShapes[index]),
                                   parameters: layer.parameterCount, connectedTo: isSequential ? [] : sources.map { "\($0)[0][0]" },
                                   trainable: layer.parameterCount > 0 ? layer.trainable : nil))
        }
        return rows
    }

    /// Keras 3's summary table, as text.
    /// - Parameter showTrainable: add Keras's `show_trainable=True` column: `Y` for a layer whose
    ///   weights are trained, `N` for a frozen one (`trainable == false`), `-` for a layer without weights.
    public func summary(showTrainable: Bool = false) -> String {
        let rows = summaryRows
        var headers = ["Layer (type)", "Output Shape", "Param #"]
        if !isSequential { headers.append("Connected to") }
        if showTrainable { headers.append("Trainable") }
        let cells = rows.map { row -> [String] in
            var cells = [row.layer, row.outputShape, Self.grouped(row.parameters)]
            if !isSequential { cells.append(row.connectedTo.joined(separator: ", ")) }
            if showTrainable { cells.append(row.trainable.map { $0 ? "Y" : "N" } ?? "-") }
            return cells
        }
        let minimum = (isSequential ? [31, 22, 13] : [25, 17, 10, 17]) + (showTrainable ? [9] : [])
        let widths = headers.indices.map { column in
            max(minimum[column], headers[column].count, cells.map { $0[column].count }.max() ?? 0)
        }
        func line(_ left: String, _ fill: String, _ middle: String, _ right: String) -> String {
            left + widths.map { String(repeating: fill, count: $0 + 2) }.joined(separator: middle) + right
        }
        func row(_ values: [String], _ edge: String) -> String {
            let padded = values.enumerated().map { column, value in
                let pad = String(repeating: " ", count: widths[column] - value.count)
                return " " + (column == 2 ? pad + value : value + pad) + " "
            }
            return edge + padded.joined(separator: edge) + edge
        }
        let counts = parameterCounts
        var text = ["Model: \"\(name)\"", line("┏", "━", "┳", "┓"), row(headers, "┃"), line("┡", "━", "╇", "┩")]
        for (index, values) in cells.enumerated() {
            text.append(row(values, "│"))
            text.append(index == cells.count - 1 ? line("└", "─", "┴", "┘") : line("├", "─", "┼", "┤"))
        }
        text.append(" Total params: \(Self.grouped(counts.trainable + counts.nonTrainable)) (\(Self.byteSize(counts.trainable + counts.nonTrainable)))")
        text.append(" Trainable params: \(Self.grouped(counts.trainable)) (\(Self.byteSize(counts.trainable)))")
        text.append(" Non-trainable params: \(Self.grouped(counts.nonTrainable)) (\(Self.byteSize(counts.nonTrainable)))")
        return text.joined(separator: "\n")
    }

    /// `2150410` → `2,150,410`.
    static func grouped(_ value: Int) -> String {
        let digits = Array(String(value))
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { result += "," }
            result.append(digit)
        }
        return result
    }

    /// The size of `count` float32 parameters as Keras prints it (`8.20 MB`, powers of 1024).
    static func byteSize(_ count: Int) -> String {
        let bytes = Double(count * 4)
        let units = ["B", "KB", "MB", "GB"]
        var value = bytes, unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return String(format: "%.2f %@", value, units[unit])
    }
}
