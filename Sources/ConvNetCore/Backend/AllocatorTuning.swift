#if canImport(Glibc)
import Glibc
#endif

/// Tunes glibc's `malloc` for training's allocation pattern; applied only by
/// `ConvNetRuntime.configure` (the CLI calls it), never by merely using the library.
///
/// Every op allocates its output and every backward closure its gradients: arrays of up to tens of
/// megabytes, freed again within the step. By default glibc serves large blocks with `mmap` and
/// returns free memory at the top of the heap to the system, so the next step's identical
/// allocations fault in fresh pages that the kernel must zero: 160,000 page faults in 70 LeNet-5
/// steps, a quarter of the run's time. Serving blocks up to 32 MiB (glibc's maximum) from the heap
/// and never trimming it lets each step reuse the previous step's memory. Larger blocks, though,
/// still went to `mmap`: at batch 1024 a convolution's output or im2col buffer is hundreds of
/// megabytes, so each step mapped and faulted fresh zeroed pages again (23.6 s of system time in
/// 56 s of training the airbench-like network). Turning `mmap` off for `malloc` altogether
/// (`M_MMAP_MAX = 0`) puts those blocks on the heap too, where the next step finds them; glibc still
/// falls back to `mmap` when the heap cannot grow, so no allocation fails that would have succeeded.
/// The cost: memory freed after a peak stays with the process, and a large block can be split and
/// its pieces kept by later small allocations (peak RSS grew by 0–7%: ResNet-20 and `cifar` at
/// batch 1024, `cifar` at 512). That trade-off belongs to the host application, which is why it
/// is opt-in.
///
/// `mallopt` is looked up at run time because Swift's Glibc module does not include `malloc.h`;
/// on another C library the lookup fails and nothing changes.
enum AllocatorTuning {
    /// Applies the tuning (repeating it is harmless); false where `mallopt` is unavailable.
    static func apply() -> Bool {
        #if canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return false }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3, mmapMax: Int32 = -4  // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_MMAP_MAX
        // mallopt returns 1 on success. The threshold is kept for a C library that ignores M_MMAP_MAX.
        return mallopt(mmapThreshold, 32 << 20) == 1 && mallopt(trimThreshold, Int32.max) == 1 && mallopt(mmapMax, 0) == 1
        #else
        return false
        #endif
    }
}
