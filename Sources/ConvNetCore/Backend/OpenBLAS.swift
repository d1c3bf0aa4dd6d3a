#if !canImport(Accelerate)
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Loads OpenBLAS at run time, after choosing its CPU kernel.
///
/// Why not link it: OpenBLAS picks its kernels once, in a constructor that runs when the library is
/// loaded, from the CPU's model number or the `OPENBLAS_CORETYPE` variable. Debian's 0.3.21 does not
/// know recent CPUs (this machine's AMD Zen 5, for one) and falls back to a generic kernel that runs
/// SGEMM 4x slower than its AVX-512 kernel. A linked library has run that constructor before any of
/// our code; `dlopen` lets us set `OPENBLAS_CORETYPE` first.
///
/// The rule: `CONVNET_OPENBLAS_CORETYPE`, when set, wins (a user's explicit choice). Otherwise, when
/// the kernel reports AVX-512 F/CD/BW/DQ/VL (what OpenBLAS's SkylakeX kernels use), we ask for
/// `SkylakeX`, replacing any `OPENBLAS_CORETYPE` inherited from the environment. On other CPUs we
/// leave OpenBLAS's own detection alone. The tests compare every GEMM shape class against the
/// reference triple loop, so a wrong kernel choice fails CI rather than training silently wrong.
///
/// OpenBLAS is loaded single-threaded (`OPENBLAS_NUM_THREADS=1`, so it starts no thread pool of its
/// own): `GEMM` splits large products over `Parallel`'s threads, and convolution calls GEMM from
/// inside its parallel regions. Two pools on one set of cores would take turns spinning and
/// yielding instead of computing.
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

    private static func load() -> Result<OpenBLAS, ConvNetError> {
        AllocatorTuning.applied
        if let coreType = chooseCoreType() {
            setenv("OPENBLAS_CORETYPE", coreType, 1)
        }
        setenv("OPENBLAS_NUM_THREADS", "1", 1)
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

    /// The kernel to request, or nil to leave OpenBLAS's own choice.
    static func chooseCoreType() -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["CONVNET_OPENBLAS_CORETYPE"], !explicit.isEmpty { return explicit }
        let avx512 = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
        return cpuFlags().isSuperset(of: avx512) ? "SkylakeX" : nil
    }

    /// The feature flags the Linux kernel reports (and has enabled) for this CPU.
    static func cpuFlags() -> Set<String> {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }
}
#endif
