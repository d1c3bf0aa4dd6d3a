/// Every error ConvNet throws. Each case carries a message that names the op, layer, file or flag
/// involved and what was expected, so a user can act on it without a stack trace.
public enum ConvNetError: Error, Equatable, CustomStringConvertible {
    /// A tensor had the wrong shape for an op: `op` names it, `message` gives the shapes.
    case shape(op: String, message: String)
    /// An argument out of its valid range (a stride of 0, a dropout rate of 1.5, ...).
    case argument(String)
    /// A file that is missing, truncated or not in the expected format.
    case file(path: String, message: String)
    /// A numerical failure, such as a NaN loss.
    case numeric(String)

    /// A one-line, human-readable form.
    public var description: String {
        switch self {
        case let .shape(op, message): return "\(op): \(message)"
        case let .argument(message): return message
        case let .file(path, message): return "\(path): \(message)"
        case let .numeric(message): return message
        }
    }
}

/// Formats a shape the way Keras prints it: `(2, 28, 28, 1)`.
@inlinable
public func describe(shape: [Int]) -> String {
    "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
}
