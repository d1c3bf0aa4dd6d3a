import ConvNetCore
/// Plain named arrays at the root of a file, as the lecture notes saves parameters: `W1`, `b1`, `W2`, `b2`.
extension HDF5File {
    /// Every dataset at the root of the file, by name, converted to `Float` with its stored shape.
    /// Groups at the root are skipped.
    public static func readArrays(_ path: String) throws -> [String: Tensor] {
        try read(path) { file in
            var arrays: [String: Tensor] = [:]
            for link in try file.children(of: "/") where link.kind == .dataset {
                arrays[link.name] = try file.readTensor(link.name)
            }
            return arrays
        }
    }

    /// Writes each tensor as a float32 dataset at the root of a new file, atomically replacing `path`.
    /// - Throws: `ConvNetError.argument` for a name that is empty or contains `/`, since it would not
    ///   be a root-level dataset.
    public static func writeArrays(_ arrays: [String: Tensor], to path: String) throws {
        if let name = arrays.keys.first(where: { $0.isEmpty || $0.contains("/") }) {
            throw ConvNetError.argument("writeArrays: array name \"\(name)\" must be non-empty and contain no \"/\"")
        }
        try write(to: path) { file in
            for (name, tensor) in arrays.sorted(by: { $0.key < $1.key }) {
                try file.write(tensor, to: name)
            }
        }
    }
}
