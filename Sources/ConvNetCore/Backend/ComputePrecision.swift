import Synchronization

/// The number format GEMM multiplies in. Convolutions and dense layers all go through `GEMM`; in
/// `bfloat16`, im2col convolutions and dense layers (all three passes) use it, while Winograd's
/// GEMMs and small products (`GEMM.worthBFloat16`) stay float32, where bfloat16 measured slower.
///
/// `bfloat16` is mixed precision as Keras's `mixed_bfloat16` policy and PyTorch's
/// `torch.autocast("cpu", dtype=torch.bfloat16)` do it: weights, gradients, optimizer state,
/// batch normalization, activations and losses stay float32 (the master copy); only the operands
/// of each matrix multiply are rounded to bfloat16 (`BFloat16.round`), and products are summed in
/// float32. It needs a CPU with AVX512-BF16 and oneDNN (`apt-get install libdnnl2`);
/// `bfloat16Support` says whether this machine has both, and without them GEMM computes in float32.
///
/// Set it for the process (`setDefault`, or `RuntimeOptions.precision`), like Keras's
/// `set_global_policy`, or for one piece of work (`with(_:_:)`), like an autocast region; the
/// scoped setting reaches `Parallel`'s worker threads too.
public enum ComputePrecision: String, Sendable, CaseIterable {
    /// IEEE single precision everywhere (the default).
    case float32 = "fp32"
    /// bfloat16 GEMM operands, float32 accumulation, float32 everything else.
    case bfloat16 = "bf16"

    /// The process-wide setting, as an index into `allCases`.
    private static let processDefault = Atomic<Int>(0)
    /// The innermost `with(_:_:)` on this task or thread, if any.
    @TaskLocal static var scoped: ComputePrecision?

    /// The precision asked for here and now: the innermost `with(_:_:)`, else the process default.
    /// (What GEMM computes in is `effective`.)
    public static var current: ComputePrecision {
        scoped ?? allCases[processDefault.load(ordering: .relaxed)]
    }

    /// What GEMM computes in here and now: `current`, except that `bfloat16` without
    /// `bfloat16Support` is `float32`.
    public static var effective: ComputePrecision {
        current == .bfloat16 && isBFloat16Available ? .bfloat16 : .float32
    }

    /// Sets the process-wide precision (Keras's `mixed_precision.set_global_policy`).
    public static func setDefault(_ precision: ComputePrecision) {
        processDefault.store(allCases.firstIndex(of: precision) ?? 0, ordering: .relaxed)
    }

    /// Runs `body` with `precision` on this thread and in the parallel regions it starts, then
    /// restores what was set before (PyTorch's `with torch.autocast(...)`).
    public static func with<Result>(_ precision: ComputePrecision, _ body: () throws -> Result) rethrows -> Result {
        try $scoped.withValue(precision, operation: body)
    }

    /// The library that computes bfloat16 GEMM here (e.g. `oneDNN (libdnnl.so.2), AVX512-BF16`), or
    /// why there is none: then `bfloat16` computes in float32.
    public static var bfloat16Support: Result<String, ConvNetError> {
        #if canImport(Accelerate)
        return .failure(.argument("bfloat16 GEMM is implemented with oneDNN on Linux only"))
        #else
        return OneDNN.shared.map { "oneDNN (\($0.library)), \(OneDNN.requiredCPUFlag)" }
        #endif
    }

    static var isBFloat16Available: Bool {
        #if canImport(Accelerate)
        return false
        #else
        if case .success = OneDNN.shared { return true }
        return false
        #endif
    }
}
