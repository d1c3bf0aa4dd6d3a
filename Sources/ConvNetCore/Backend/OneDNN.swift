#if !canImport(Accelerate)
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// oneDNN's bfloat16 GEMM, loaded at run time: `dnnl_gemm_bf16bf16f32` (bfloat16 inputs, float32
/// accumulation and output), the multiply behind `ComputePrecision.bfloat16`.
///
/// Why oneDNN: on this project's AMD EPYC (AVX512-BF16), its JIT kernel multiplies bfloat16 at
/// 1.9–2.2x the rate of OpenBLAS's float32 SGEMM on one core (143–207 against 77–95 GFLOP/s over
/// M×N×K from 256×64×64 to 8192×128×576; `docs/PERFORMANCE.md`), which is the instruction's 2x;
/// Debian's OpenBLAS 0.3.21 has no `sbgemm`. It is loaded like OpenBLAS, with `dlopen`, so
/// `ConvNetCore` links no C library and works without it (in float32).
///
/// Threads: Debian's oneDNN runs on OpenMP. `GEMM` calls it from inside `Parallel`'s regions, one
/// block per thread, so before each call we set the calling thread's OpenMP team size to 1
/// (`omp_set_num_threads(1)`, a per-thread setting): no second pool competes for the cores.
///
/// Only on CPUs that report `avx512_bf16`: elsewhere oneDNN would emulate the bfloat16 dot product
/// at no gain, and `ComputePrecision.bfloat16` falls back to float32 (the CLI says so).
struct OneDNN: Sendable {
    typealias GEMMBFloat16 = @convention(c) (
        CChar, CChar, Int, Int, Int, Float, UnsafePointer<UInt16>?, Int, UnsafePointer<UInt16>?, Int, Float,
        UnsafeMutablePointer<Float>?, Int) -> Int32
    typealias SetThreads = @convention(c) (Int32) -> Void

    let gemmBFloat16: GEMMBFloat16
    let setOpenMPThreads: SetThreads?
    let library: String

    /// The process-wide instance, or why bfloat16 GEMM is not available here.
    static let shared: Result<OneDNN, ConvNetError> = load()

    static let libraryNames = ["libdnnl.so.3", "libdnnl.so.2", "libdnnl.so"]
    /// The CPU feature the kernel needs to be worth using.
    static let requiredCPUFlag = "avx512_bf16"

    private static func load() -> Result<OneDNN, ConvNetError> {
        guard CPUFeatures.flags.contains(requiredCPUFlag) else {
            return .failure(.argument("this CPU does not report \(requiredCPUFlag) (bfloat16 dot products)"))
        }
        for name in libraryNames {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            guard let gemm = dlsym(handle, "dnnl_gemm_bf16bf16f32") else { continue }
            let setThreads = dlsym(handle, "omp_set_num_threads").map { unsafeBitCast($0, to: SetThreads.self) }
            return .success(OneDNN(gemmBFloat16: unsafeBitCast(gemm, to: GEMMBFloat16.self), setOpenMPThreads: setThreads, library: name))
        }
        return .failure(.argument(
            "oneDNN not found (tried \(libraryNames.joined(separator: ", "))); install it with `apt-get install libdnnl2`"))
    }

    /// `C = α · op(A) · op(B) + β · C` on the calling thread, for row-major bfloat16 `A`, `B` and
    /// float32 `C` (the shapes of `GEMM.multiply`). Returns false if oneDNN refused the arguments.
    func multiply(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                  a: UnsafePointer<UInt16>, lda: Int, b: UnsafePointer<UInt16>, ldb: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) -> Bool {
        setOpenMPThreads?(1)
        let (no, yes) = (CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "T")))
        return gemmBFloat16(transposeA ? yes : no, transposeB ? yes : no, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == 0
    }
}
#endif
