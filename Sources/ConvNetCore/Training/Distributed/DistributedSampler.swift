/// Which samples each process trains on in an epoch: PyTorch's `DistributedSampler` with
/// `drop_last=False`.
///
/// Every rank starts from the same permutation of `0..<count` (the one a single process would use:
/// `fit`'s shuffler, seeded with the seed and advanced once per epoch, so it is a function of seed
/// and epoch and identical on every rank). The permutation is **padded** to a multiple of the number
/// of ranks `N` by repeating its first `N·⌈count/N⌉ − count` entries, and rank `r` takes every
/// `N`-th entry from position `r`:
///
///     padded = order + order[0 ..< N·⌈count/N⌉ − count]
///     shard(r) = padded[r], padded[r + N], padded[r + 2N], ...      (⌈count/N⌉ samples)
///
/// Padding (rather than truncating) keeps every sample in every epoch, as one process would, at the
/// cost of at most `N − 1` samples seen twice per epoch; it gives every rank the same number of
/// samples, hence the same number of steps and the same batch size at each step, which the
/// collectives and the averaging of per-rank mean gradients need. Strided shards make the union of
/// the ranks' batches at step `k` (batch size `B` each) exactly a single process's batch `k` of size
/// `N·B`, so `N` processes with batch `B` take the steps one process takes with batch `N·B`.
public struct DistributedSampler: Sendable, Equatable {
    /// Samples in the dataset.
    public let count: Int
    /// Processes sharing it, `N`.
    public let replicas: Int
    /// This process's rank, `0..<replicas`.
    public let rank: Int

    /// The sampler of `rank` among `replicas` processes over `count` samples.
    /// - Throws: `ConvNetError.argument` unless `count > 0`, `replicas > 0` and `0 ≤ rank < replicas`.
    public init(count: Int, replicas: Int, rank: Int) throws {
        guard count > 0, replicas > 0, (0..<replicas).contains(rank) else {
            throw ConvNetError.argument("DistributedSampler: need count > 0 and 0 ≤ rank < replicas, got count \(count), rank \(rank), replicas \(replicas)")
        }
        (self.count, self.replicas, self.rank) = (count, replicas, rank)
    }

    /// `⌈count / N⌉`: the samples of each rank's shard in every epoch.
    public var samplesPerReplica: Int { (count + replicas - 1) / replicas }

    /// This rank's shard of `order`, a permutation of `0..<count` that every rank computes alike.
    public func shard(of order: [Int]) -> [Int] {
        let total = samplesPerReplica * replicas
        return stride(from: rank, to: total, by: replicas).map { order[$0 % count] }
    }
}
