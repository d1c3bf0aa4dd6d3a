import Foundation
import Synchronization

/// The bound on any one allocation whose size comes from a file or a flag (a dataset's declared
/// shape, an image's width and height, a layer's units), so that a damaged or hostile input gets an
/// error saying how much it asked for instead of an abort in the allocator.
///
/// Sizes are multiplied with overflow checks, so `2⁶² · 4` is "too large", not a wrapped number.
/// The limit is the machine's physical memory unless set with `maximumBytes` or the environment
/// variable `CONVNET_MAX_ALLOCATION_BYTES` (read once, at first use).
public enum AllocationLimit {
    private static let configured = Atomic<Int>(0)

    /// The most bytes one allocation driven by input may take; at least 1 MiB.
    public static var maximumBytes: Int {
        get {
            let value = configured.load(ordering: .relaxed)
            if value > 0 { return value }
            let fromEnvironment = ProcessInfo.processInfo.environment["CONVNET_MAX_ALLOCATION_BYTES"].flatMap { Int($0) }
            let initial = max(fromEnvironment ?? Int(clamping: ProcessInfo.processInfo.physicalMemory), 1 << 20)
            configured.store(initial, ordering: .relaxed)
            return initial
        }
        set { configured.store(max(newValue, 1 << 20), ordering: .relaxed) }
    }

    /// The number of elements of `shape` (`∏ shape[i]`, 1 for a scalar), checked for negative
    /// sizes and overflow, and such that `count · elementSize` bytes stay within `maximumBytes`.
    /// - Parameters:
    ///   - shape: The dimensions asked for.
    ///   - elementSize: Bytes per element (4 for `Float`).
    ///   - what: Names the data in the error, e.g. `"dataset model_weights/dense/kernel:0"`.
    /// - Throws: `ConvNetError.argument` naming `what` with the bytes it would need.
    public static func elementCount(_ shape: [Int], elementSize: Int, _ what: @autoclosure () -> String) throws -> Int {
        if let negative = shape.first(where: { $0 < 0 }) {
            throw ConvNetError.argument("\(what()): negative size \(negative) in \(describe(shape: shape))")
        }
        var count = 1
        var overflow = false
        for extent in shape where !overflow {
            (count, overflow) = count.multipliedReportingOverflow(by: extent)
        }
        let (bytes, bytesOverflow) = count.multipliedReportingOverflow(by: max(elementSize, 1))
        guard !overflow, !bytesOverflow, bytes <= maximumBytes else {
            let exact = shape.reduce(Double(max(elementSize, 1))) { $0 * Double($1) }
            throw ConvNetError.argument("\(what()): \(describe(shape: shape)) of \(elementSize)-byte elements would need "
                + "\(readable(bytes: exact)), more than the \(readable(bytes: Double(maximumBytes))) one allocation may take "
                + "(the machine's memory; CONVNET_MAX_ALLOCATION_BYTES changes it)")
        }
        return count
    }

    /// `bytes` as `1234567890 bytes (1.2 GB)`.
    public static func readable(bytes: Double) -> String {
        let units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
        var value = bytes, unit = 0
        while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
        let exact = bytes < 0x1p63 ? String(Int(bytes)) : String(format: "%.3g", bytes)
        return unit == 0 ? "\(exact) bytes" : "\(exact) bytes (\(String(format: "%.1f", value)) \(units[unit]))"
    }
}
