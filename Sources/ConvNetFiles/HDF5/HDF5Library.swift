import ConvNetCore
// `@preconcurrency`: libhdf5 exposes its predefined type ids as mutable C globals
// (`H5T_NATIVE_FLOAT_g`, ...). They are written once by `H5open()` and only read afterwards, and
// every access happens under `HDF5Library.locked`, so reading them is safe.
@preconcurrency import CHDF5
import Foundation

/// Process-wide gate to libhdf5.
///
/// The serial libhdf5 build (Debian's `libhdf5-dev`) is not thread-safe, so every call into it goes
/// through `locked`. The lock is not re-entrant: code running inside `locked` calls the internal,
/// lock-free helpers of `HDF5File`, never its public methods.
enum HDF5Library {
    private static let mutex = Locked(())

    /// Runs `body` with exclusive access to libhdf5.
    static func locked<T: Sendable>(_ body: () throws -> T) rethrows -> T {
        try mutex.withLock { _ in
            _ = H5open()
            // libhdf5 prints its error stack to stderr by default; ConvNet reports errors itself.
            // Set on every entry because thread-safe builds keep this setting per thread.
            _ = H5Eset_auto2(HDF5Library.errorStack, nil, nil)
            return try body()
        }
    }

    /// The innermost message on libhdf5's error stack (such as `truncated file: eof = 1000, ...`),
    /// which says more than the API-level one; clears the stack. Call with the lock held.
    static func takeErrorDetail() -> String? {
        var messages: [String] = []
        withUnsafeMutablePointer(to: &messages) { pointer in
            // H5E_WALK_UPWARD starts at the most specific error.
            _ = H5Ewalk2(HDF5Library.errorStack, H5E_WALK_UPWARD, { _, error, context in
                guard let description = error?.pointee.desc, let context else { return 0 }
                context.assumingMemoryBound(to: [String].self).pointee.append(String(cString: description))
                return 0
            }, pointer)
        }
        _ = H5Eclear2(HDF5Library.errorStack)
        // Some messages span lines ("file write failed: time = ...,\n filename = ..."): errors are one line.
        return messages.first.map { $0.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ") }
    }

    // Macros that Swift cannot import or imports with the wrong type (`H5P_DEFAULT` is a plain `0`,
    // which Swift types as `Int32` rather than `hid_t`).
    static let defaults: hid_t = 0  // H5P_DEFAULT
    static let errorStack: hid_t = 0  // H5E_DEFAULT
    static let wholeDataspace: hid_t = 0  // H5S_ALL
    static let openReadOnly: UInt32 = 0x0000  // H5F_ACC_RDONLY
    static let createTruncating: UInt32 = 0x0002  // H5F_ACC_TRUNC
    /// `H5T_VARIABLE`, `(size_t)-1`; Swift imports `size_t` as `Int`.
    static let variableLength = -1
}

/// A numeric element type with its libhdf5 in-memory type and its on-disk type (little-endian, as
/// h5py writes on x86 and ARM). The ids are read inside `HDF5Library.locked`, after `H5open()`.
protocol HDF5Scalar: Numeric, Sendable {
    static var memoryType: hid_t { get }
    static var fileType: hid_t { get }
}

extension Float: HDF5Scalar {
    static var memoryType: hid_t { H5T_NATIVE_FLOAT_g }
    static var fileType: hid_t { H5T_IEEE_F32LE_g }
}

extension Double: HDF5Scalar {
    static var memoryType: hid_t { H5T_NATIVE_DOUBLE_g }
    static var fileType: hid_t { H5T_IEEE_F64LE_g }
}

extension UInt8: HDF5Scalar {
    static var memoryType: hid_t { H5T_NATIVE_UINT8_g }
    static var fileType: hid_t { H5T_STD_U8LE_g }
}

extension Int64: HDF5Scalar {
    static var memoryType: hid_t { H5T_NATIVE_INT64_g }
    static var fileType: hid_t { H5T_STD_I64LE_g }
}
