#if canImport(Glibc)
import Glibc
#endif

/// Tunes glibc's `malloc` for training's allocation pattern; applied once, when OpenBLAS is loaded.
///
/// Every op allocates its output and every backward closure its gradients: arrays of up to tens of
/// megabytes, freed again within the step. By default glibc serves large blocks with `mmap` and
/// returns free memory at the top of the heap to the system, so the next step's identical
/// allocations fault in fresh pages that the kernel must zero: 160,000 page faults in 70 LeNet-5
/// steps, a quarter of the run's time. Serving blocks up to 32 MiB (glibc's maximum) from the heap
/// and never trimming it lets each step reuse the previous step's memory. The cost: memory freed
/// after a peak stays with the process (its peak RSS is unchanged).
///
/// `mallopt` is looked up at run time because Swift's Glibc module does not include `malloc.h`;
/// on another C library the lookup fails and nothing changes.
enum AllocatorTuning {
    static let applied: Void = {
        #if canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3  // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
        _ = mallopt(mmapThreshold, 32 << 20)
        _ = mallopt(trimThreshold, Int32.max)
        #endif
    }()
}
