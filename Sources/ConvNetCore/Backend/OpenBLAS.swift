#if !canImport(Accelerate)
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Loads OpenBLAS at run time, on the first GEMM, without changing the process's environment.
///
/// Why not link it: OpenBLAS picks its kernels once, in a constructor that runs when the library is
/// loaded, from the CPU's model number or the `OPENBLAS_CORETYPE` variable. Debian's 0.3.21 does not
/// know every recent CPU (AMD Zen 5, for one) and may fall back to a generic kernel that runs SGEMM
/// 4x slower than its AVX-512 kernel. A linked library has run that constructor before any of our
/// code; `dlopen` lets `ConvNetRuntime.configure` set `OPENBLAS_CORETYPE` first, when the host asks
/// for it. Loading itself sets no variable: without `configure`, OpenBLAS detects its own kernel
/// (or honours an `OPENBLAS_CORETYPE` the user exported).
///
/// OpenBLAS must compute single-threaded: `GEMM` splits large products over `Parallel`'s threads,
/// and convolution calls GEMM from inside its parallel regions; two pools on one set of cores would
/// take turns spinning and yielding instead of computing. After loading we call
/// `openblas_set_num_threads(1)`, which makes every later call run on its caller's thread. Measured
/// on Debian's 0.3.21 (pthread build): without `OPENBLAS_NUM_THREADS=1` in the environment, its
/// constructor still starts `cores − 1` threads of its own at `dlopen`; they poll for a few tens of
/// milliseconds and then sleep for good, and SGEMM runs as fast as with the variable set. So the
/// variable, which only `configure` exports, saves those idle threads and nothing else.
struct OpenBLAS: Sendable {
    typealias SGEMM = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Float,
        UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32, Float,
        UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias SetThreads = @convention(c) (Int32) -> Void
    typealias CoreName = @convention(c) () -> UnsafePointer<CChar>?

    let sgemm: SGEMM
    let coreName: String
    let library: String

    /// The process-wide instance, or the reason OpenBLAS could not be loaded.
    static let shared: Result<OpenBLAS, ConvNetError> = load()

    static let libraryNames = ["libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0", "libopenblaso.so.0"]

    /// True once loading has begun. Held while loading, so that `beforeLoading` cannot set
    /// variables while OpenBLAS's constructor reads them.
    private static let loadStarted = Locked<Bool>(false)

    /// Runs `body` (which may set OpenBLAS's environment variables) if OpenBLAS has not been
    /// loaded yet, holding off loading until it returns; returns false, without running it, once
    /// loading has begun.
    static func beforeLoading(_ body: () -> Void) -> Bool {
        loadStarted.withLock { started in
            guard !started else { return false }
            body()
            return true
        }
    }

    private static func load() -> Result<OpenBLAS, ConvNetError> {
        loadStarted.withLock { started in
            started = true
            for name in libraryNames {
                guard let handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL) else { continue }
                guard let sgemmSymbol = dlsym(handle, "cblas_sgemm") else { continue }
                dlsym(handle, "openblas_set_num_threads").map { unsafeBitCast($0, to: SetThreads.self) }?(1)
                let coreName = dlsym(handle, "openblas_get_corename")
                    .map { unsafeBitCast($0, to: CoreName.self) }
                    .flatMap { $0() }
                    .map { String(cString: $0) } ?? "unknown"
                return .success(OpenBLAS(sgemm: unsafeBitCast(sgemmSymbol, to: SGEMM.self), coreName: coreName, library: name))
            }
            return .failure(.argument(
                "OpenBLAS not found (tried \(libraryNames.joined(separator: ", "))); install it with `apt-get install libopenblas-dev`"))
        }
    }

    /// The kernel `configure` asks for, or nil to leave OpenBLAS's own choice.
    ///
    /// `.automatic`: `CONVNET_OPENBLAS_CORETYPE`, when set, wins (a user's explicit choice).
    /// Otherwise, when the kernel reports AVX-512 F/CD/BW/DQ/VL (what OpenBLAS's SkylakeX kernels
    /// use), `SkylakeX`, replacing any `OPENBLAS_CORETYPE` inherited from the environment. On other
    /// CPUs, nil. The tests compare every GEMM shape class against the reference triple loop, so a
    /// wrong kernel choice fails CI rather than training silently wrong.
    static func coreType(for choice: RuntimeOptions.OpenBLASCoreType) -> String? {
        switch choice {
        case .openBLASDefault:
            return nil
        case let .named(name):
            return name.isEmpty ? nil : name
        case .automatic:
            if let explicit = ProcessInfo.processInfo.environment["CONVNET_OPENBLAS_CORETYPE"], !explicit.isEmpty { return explicit }
            let avx512 = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
            return CPUFeatures.flags.isSuperset(of: avx512) ? "SkylakeX" : nil
        }
    }
}
#endif
