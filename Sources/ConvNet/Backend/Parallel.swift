import Dispatch
import Synchronization

/// Splits loops across the CPU's cores for ConvNet's own kernels (im2col, pooling, activations).
///
/// BLAS has its own thread pool. Our parallel regions never call BLAS, and BLAS calls never run
/// inside our parallel regions, so the two pools take turns instead of oversubscribing the cores.
public enum Parallel {
    private static let configuredThreads = Atomic<Int>(0)

    /// The number of threads kernels use: `setThreads`'s value, else the number of active cores.
    public static var threads: Int {
        let configured = configuredThreads.load(ordering: .relaxed)
        return configured > 0 ? configured : ProcessInfo.processInfo.activeProcessorCount
    }

    /// Uses `count` threads for ConvNet's kernels and for BLAS.
    public static func setThreads(_ count: Int) {
        configuredThreads.store(max(1, count), ordering: .relaxed)
        GEMM.setThreads(max(1, count))
    }

    /// Runs `body(range)` over `0..<count` split into contiguous chunks, one per thread, when the
    /// work is large enough (`count * costPerItem` ≥ ~32k operations) to repay the hand-off.
    public static func forEachChunk(_ count: Int, costPerItem: Int = 1, _ body: @Sendable (Range<Int>) -> Void) {
        let threadCount = min(threads, count)
        guard threadCount > 1, count * costPerItem >= 32_768 else {
            if count > 0 { body(0..<count) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: threadCount) { chunk in
            let start = count * chunk / threadCount, end = count * (chunk + 1) / threadCount
            if start < end { body(start..<end) }
        }
    }
}

import Foundation
