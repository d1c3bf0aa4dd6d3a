#if canImport(Glibc)
import Glibc
#endif

/// What `ConvNetRuntime.configure` should set up in the host process. The defaults are what the
/// `convnet` tool uses: OpenBLAS's kernel chosen automatically, allocator tuned, thread count kept.
public struct RuntimeOptions: Sendable, Equatable {
    /// Which SGEMM kernel OpenBLAS should load (Linux only; Accelerate picks its own).
    public enum OpenBLASCoreType: Sendable, Equatable {
        /// `CONVNET_OPENBLAS_CORETYPE` when set; else `SkylakeX` when the CPU reports AVX-512
        /// F/CD/BW/DQ/VL (overriding an inherited `OPENBLAS_CORETYPE`, since Debian's OpenBLAS
        /// 0.3.21 falls back to a 4x slower generic kernel on CPUs it does not know); else
        /// OpenBLAS's own detection.
        case automatic
        /// OpenBLAS's own detection, or the user's `OPENBLAS_CORETYPE`: `OPENBLAS_CORETYPE` is not set.
        case openBLASDefault
        /// This OpenBLAS core name, e.g. `"Haswell"` (an empty name means `.openBLASDefault`).
        case named(String)
    }

    /// Threads for ConvNet's kernels (values below 1 count as 1), or nil to keep the current count
    /// (`Parallel.threads`: the number of active cores unless `Parallel.setThreads` was called).
    public var threads: Int?
    /// The kernel OpenBLAS should load. Default: `.automatic`.
    public var openBLASCoreType: OpenBLASCoreType
    /// Whether to retune glibc's `malloc` for training's large, short-lived arrays. Default: true.
    public var tuneAllocator: Bool
    /// The process's GEMM precision (`ComputePrecision.setDefault`), or nil to keep it (float32
    /// unless set). Default: nil.
    public var precision: ComputePrecision?

    /// Options for ``ConvNetRuntime/configure(_:)``; each default is the `convnet` tool's choice.
    ///
    /// - Parameters:
    ///   - threads: Threads for ConvNet's kernels, or nil to keep the current count.
    ///   - openBLASCoreType: The kernel OpenBLAS should load.
    ///   - tuneAllocator: Whether to retune glibc's `malloc` for training's large, short-lived arrays.
    ///   - precision: The process's GEMM precision, or nil to keep it.
    public init(threads: Int? = nil, openBLASCoreType: OpenBLASCoreType = .automatic, tuneAllocator: Bool = true,
                precision: ComputePrecision? = nil) {
        self.threads = threads
        self.openBLASCoreType = openBLASCoreType
        self.tuneAllocator = tuneAllocator
        self.precision = precision
    }
}

/// What one `ConvNetRuntime.configure` call changed.
public struct RuntimeConfiguration: Sendable, Equatable {
    /// The environment variables the call set, and their values; empty when OpenBLAS was already
    /// loaded (or on Apple platforms, which use Accelerate).
    public let environment: [String: String]
    /// True when OpenBLAS had been loaded before the call (by an earlier GEMM): its kernel and
    /// thread settings are fixed for the life of the process, so the call set no variable.
    public let openBLASWasAlreadyLoaded: Bool
    /// Whether glibc's `malloc` was retuned.
    public let allocatorTuned: Bool
    /// `Parallel.threads` after the call.
    public let threads: Int
}

/// The one place where ConvNet changes process-wide state, and only when the host asks.
///
/// Using the library without calling `configure` sets no environment variable and leaves `malloc`
/// alone. Two things happen regardless, because computing needs them: the first GEMM loads OpenBLAS
/// and calls its `openblas_set_num_threads(1)` (a setting of that library, shared with any other
/// user of the same OpenBLAS in the process), and the first parallel region starts
/// `Parallel.threads − 1` worker threads, which sleep when idle.
public enum ConvNetRuntime {
    /// Sets up the process for ConvNet's speed. Call it once, at startup, before the first GEMM
    /// (any training, prediction or convolution) and before starting other threads: `setenv` is
    /// not safe while another thread reads the environment.
    ///
    /// Exactly what it changes:
    /// - Environment (Linux, only if OpenBLAS is not loaded yet; OpenBLAS reads these once, when it
    ///   is loaded): `OPENBLAS_NUM_THREADS=1`, so that OpenBLAS starts no idle thread pool beside
    ///   ConvNet's, and `OPENBLAS_CORETYPE` as `options.openBLASCoreType` resolves (see
    ///   `RuntimeOptions.OpenBLASCoreType`; nothing when it resolves to OpenBLAS's own detection).
    ///   Called after OpenBLAS was loaded, it sets neither, and says so in
    ///   `RuntimeConfiguration.openBLASWasAlreadyLoaded`: the kernel stays the one already chosen.
    /// - glibc's `malloc`, when `options.tuneAllocator`: `mallopt(M_MMAP_THRESHOLD, 32 MiB)`,
    ///   `mallopt(M_TRIM_THRESHOLD, INT_MAX)` and `mallopt(M_MMAP_MAX, 0)`, so that the large arrays
    ///   each training step frees (any size) are reused by the next step instead of being unmapped
    ///   and faulted in again. Freed memory then stays with the process (peak RSS grows a little:
    ///   0–7% in `convnet bench` at batch 512–1024). Applies to the whole process.
    /// - ConvNet's thread count (`Parallel.setThreads`), when `options.threads` is set.
    /// - ConvNet's GEMM precision (`ComputePrecision.setDefault`), when `options.precision` is set.
    ///
    /// Nothing else; repeating the call is harmless.
    @discardableResult
    public static func configure(_ options: RuntimeOptions = RuntimeOptions()) -> RuntimeConfiguration {
        if let threads = options.threads { Parallel.setThreads(threads) }
        if let precision = options.precision { ComputePrecision.setDefault(precision) }
        let allocatorTuned = options.tuneAllocator && AllocatorTuning.apply()
        var environment: [String: String] = [:]
        var alreadyLoaded = false
        #if !canImport(Accelerate)
        var wanted = ["OPENBLAS_NUM_THREADS": "1"]
        wanted["OPENBLAS_CORETYPE"] = OpenBLAS.coreType(for: options.openBLASCoreType)
        alreadyLoaded = !OpenBLAS.beforeLoading {
            for (name, value) in wanted { setenv(name, value, 1) }
        }
        if !alreadyLoaded { environment = wanted }
        #endif
        return RuntimeConfiguration(environment: environment, openBLASWasAlreadyLoaded: alreadyLoaded,
                                    allocatorTuned: allocatorTuned, threads: Parallel.threads)
    }
}
