/// The collective operations that data-parallel training needs, as MPI defines them, so that the
/// training core can synchronise processes without depending on MPI itself. `ConvNetDistributed`'s
/// `MPIProcessGroup` implements it over Open MPI; a single-process group (`SingleProcessGroup`) makes
/// every operation the identity.
///
/// Every process of the group must call the same operations in the same order with buffers of the
/// same length (MPI's rule for collectives); a process that skips one blocks the others until the
/// launcher (`mpirun`) ends the job. All operations work in place on the caller's buffer.
public protocol ProcessGroup: AnyObject, Sendable {
    /// This process's number in the group, `0..<size` (MPI's rank); rank 0 writes the files.
    var rank: Int { get }
    /// How many processes train together (MPI's communicator size).
    var size: Int { get }
    /// `buffer[i] ← Σ_ranks buffer[i]` on every rank (`MPI_Allreduce` with `MPI_SUM`, in place).
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    /// `buffer[i] ← Σ_ranks buffer[i]` on every rank, in double precision.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws
    /// Every rank's `buffer` becomes `root`'s (`MPI_Bcast`).
    func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws
    /// Every rank's `buffer` becomes `root`'s, in double precision.
    func broadcast(_ buffer: UnsafeMutableBufferPointer<Double>, root: Int) throws
    /// Returns on every rank once all ranks have called it (`MPI_Barrier`).
    func barrier() throws
}

extension ProcessGroup {
    /// Whether this process is rank 0, the one that prints progress and writes files.
    public var isRoot: Bool { rank == 0 }

    /// `values[i] ← Σ_ranks values[i]`, in double precision, for a few numbers (sample counts,
    /// loss sums, batch-normalization sums).
    public func allReduceSum(_ values: inout [Double]) throws {
        try values.withUnsafeMutableBufferPointer { try allReduceSum($0) }
    }

    /// `values[i] ← Σ_ranks values[i]` for an array of `Float`.
    public func allReduceSum(_ values: inout [Float]) throws {
        try values.withUnsafeMutableBufferPointer { try allReduceSum($0) }
    }

    /// Every rank's `values` become `root`'s (the arrays must have the same length on every rank).
    public func broadcast(_ values: inout [Double], root: Int = 0) throws {
        try values.withUnsafeMutableBufferPointer { try broadcast($0, root: root) }
    }

    /// Every rank's `values` become `root`'s (the arrays must have the same length on every rank).
    public func broadcast(_ values: inout [Float], root: Int = 0) throws {
        try values.withUnsafeMutableBufferPointer { try broadcast($0, root: root) }
    }
}

/// A group of one process, in which every collective leaves its buffer as it is: training with it
/// is training without distribution. Useful for code that takes a ``ProcessGroup`` either way.
public final class SingleProcessGroup: ProcessGroup {
    /// A group whose only member is this process.
    public init() {}
    /// Always 0.
    public var rank: Int { 0 }
    /// Always 1.
    public var size: Int { 1 }
    /// The sum over one rank is the buffer itself.
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
    /// The sum over one rank is the buffer itself.
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}
    /// The only rank is the root.
    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws {}
    /// The only rank is the root.
    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Double>, root: Int) throws {}
    /// Nothing to wait for.
    public func barrier() throws {}
}
