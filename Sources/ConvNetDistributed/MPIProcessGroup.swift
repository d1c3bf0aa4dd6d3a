import CMPI
import ConvNetCore
import Foundation

/// The processes `mpirun` started (`MPI_COMM_WORLD`), as a ``ProcessGroup`` over Open MPI.
///
///     let group = try MPIProcessGroup.world()       // MPI_Init_thread, once per process
///     try model.fit(data, epochs: 5, dataParallel: DataParallel(group))
///     try group.finalize()                           // MPI_Finalize, before the process exits
///
/// Collectives are called from one thread at a time (`MPI_THREAD_SERIALIZED`): training calls them
/// from the thread that runs `fit`, never from ConvNet's worker threads. Errors are returned, not
/// fatal (`MPI_ERRORS_RETURN`), and thrown as ``MPIError`` naming the call. A rank that fails should
/// end the job with ``abort(code:)`` so that the others, blocked in a collective, do not wait for it.
public final class MPIProcessGroup: ProcessGroup, @unchecked Sendable {
    // @unchecked: the communicator is a handle that MPI itself owns; the only state is immutable.
    /// This process's rank in `MPI_COMM_WORLD`.
    public let rank: Int
    /// The number of processes in `MPI_COMM_WORLD`.
    public let size: Int
    private let communicator: MPI_Comm

    private static let lock = NSLock()
    nonisolated(unsafe) private static var shared: MPIProcessGroup?

    private init(communicator: MPI_Comm) throws {
        var rank: Int32 = 0, size: Int32 = 0
        try MPIError.check(MPI_Comm_rank(communicator, &rank), "MPI_Comm_rank")
        try MPIError.check(MPI_Comm_size(communicator, &size), "MPI_Comm_size")
        (self.communicator, self.rank, self.size) = (communicator, Int(rank), Int(size))
    }

    /// All processes of the job: initialises MPI on the first call (`MPI_Init_thread`, serialized
    /// threads) and returns the same group afterwards.
    /// - Throws: ``MPIError`` when MPI cannot start (e.g. not launched by `mpirun` and no singleton
    ///   start possible) or does not offer the thread level.
    public static func world() throws -> MPIProcessGroup {
        lock.lock()
        defer { lock.unlock() }
        if let shared { return shared }
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            var provided: Int32 = 0
            try MPIError.check(MPI_Init_thread(nil, nil, cmpi_thread_serialized(), &provided), "MPI_Init_thread")
            guard provided >= cmpi_thread_serialized() else {
                throw MPIError(call: "MPI_Init_thread", message: "the MPI library offers thread level \(provided), serialized (\(cmpi_thread_serialized())) is needed")
            }
        }
        MPI_Comm_set_errhandler(cmpi_comm_world(), cmpi_errors_return())
        let group = try MPIProcessGroup(communicator: cmpi_comm_world())
        shared = group
        return group
    }

    /// Whether this process was started by Open MPI's `mpirun` (its environment names the job's
    /// size), so that a program can decide to call ``world()``.
    public static var launchedByMPIRun: Bool { ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil }

    /// Processes of the job on this machine (`OMPI_COMM_WORLD_LOCAL_SIZE`), 1 when not started by
    /// `mpirun`: ranks on one machine share its cores.
    public static var localSize: Int {
        ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int($0) }.map { max($0, 1) } ?? 1
    }

    /// `MPI_Allreduce(MPI_IN_PLACE, buffer, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD)`.
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try allReduce(UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count, type: cmpi_float())
    }

    /// `MPI_Allreduce(MPI_IN_PLACE, buffer, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD)`.
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
        try allReduce(UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count, type: cmpi_double())
    }

    /// `MPI_Bcast(buffer, n, MPI_FLOAT, root, MPI_COMM_WORLD)`.
    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws {
        try broadcast(UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count, type: cmpi_float(), root: root)
    }

    /// `MPI_Bcast(buffer, n, MPI_DOUBLE, root, MPI_COMM_WORLD)`.
    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Double>, root: Int) throws {
        try broadcast(UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count, type: cmpi_double(), root: root)
    }

    /// `MPI_Barrier(MPI_COMM_WORLD)`.
    public func barrier() throws {
        try MPIError.check(MPI_Barrier(communicator), "MPI_Barrier")
    }

    /// `MPI_Finalize`: call once on every rank after the last collective, before exiting normally
    /// (`mpirun` reports a process that exits without it as failed).
    public func finalize() throws {
        try MPIError.check(MPI_Finalize(), "MPI_Finalize")
    }

    /// `MPI_Abort(MPI_COMM_WORLD, code)`: ends every rank of the job (the others may be waiting in a
    /// collective for this one); `mpirun` then exits with a non-zero status.
    public func abort(code: Int32) -> Never {
        MPI_Abort(communicator, code)
        exit(code)
    }

    private func allReduce(_ buffer: UnsafeMutableRawPointer?, count: Int, type: MPI_Datatype) throws {
        guard count > 0 else { return }
        for (offset, chunk) in Self.chunks(count) {
            let start = buffer.map { $0 + offset * MPIProcessGroup.size(of: type) }
            try MPIError.check(MPI_Allreduce(cmpi_in_place(), start, Int32(chunk), type, cmpi_sum(), communicator), "MPI_Allreduce")
        }
    }

    private func broadcast(_ buffer: UnsafeMutableRawPointer?, count: Int, type: MPI_Datatype, root: Int) throws {
        guard count > 0 else { return }
        for (offset, chunk) in Self.chunks(count) {
            let start = buffer.map { $0 + offset * MPIProcessGroup.size(of: type) }
            try MPIError.check(MPI_Bcast(start, Int32(chunk), type, Int32(root), communicator), "MPI_Bcast")
        }
    }

    /// MPI counts are `Int32`: longer buffers go in pieces of at most 2³⁰ elements.
    private static func chunks(_ count: Int) -> [(offset: Int, count: Int)] {
        let piece = 1 << 30
        return stride(from: 0, to: count, by: piece).map { ($0, min(piece, count - $0)) }
    }

    private static func size(of type: MPI_Datatype) -> Int {
        var bytes: Int32 = 0
        MPI_Type_size(type, &bytes)
        return Int(bytes)
    }
}

/// An MPI call that did not return `MPI_SUCCESS`, with MPI's own description of the error.
public struct MPIError: Error, CustomStringConvertible, Sendable {
    /// The MPI function, e.g. `MPI_Allreduce`.
    public let call: String
    /// MPI's error string (`MPI_Error_string`).
    public let message: String

    /// An error of `call` described by `message`.
    public init(call: String, message: String) {
        self.call = call
        self.message = message
    }

    /// `MPI_Allreduce failed: ...`.
    public var description: String { "\(call) failed: \(message)" }

    /// Throws unless `code` is `MPI_SUCCESS`.
    static func check(_ code: Int32, _ call: String) throws {
        guard code != cmpi_success() else { return }
        var text = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        throw MPIError(call: call, message: String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}
