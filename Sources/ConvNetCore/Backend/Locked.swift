#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by a POSIX mutex: the one lock the project uses.
///
///     let seen = Locked<[Int]>([])
///     DispatchQueue.concurrentPerform(iterations: 4) { i in seen.withLock { $0.append(i) } }
///
/// Why not `Synchronization.Mutex`: on Linux (Swift 6.3) a contended `Mutex` hands the lock over
/// through raw futex system calls, which ThreadSanitizer does not see as synchronization, so every
/// contended `Mutex` is reported as a "Swift access race" in TSan builds (two threads appending to
/// a `Mutex<[Int]>` are enough). `pthread_mutex_lock`/`unlock` are intercepted by TSan, so a race
/// it reports around a `Locked` value is a real one, and CI can run TSan without suppressions.
/// The cost of an uncontended lock is the same (one atomic exchange each way).
///
/// `withLock` takes and returns values as `sending`, as `Mutex.withLock` does, so non-`Sendable`
/// values cannot escape the lock into another isolation region.
public final class Locked<Value: ~Copyable>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ value: consuming sending Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value; other callers wait until it returns.
    public func withLock<Result: ~Copyable, E: Error>(_ body: (inout sending Value) throws(E) -> sending Result) throws(E) -> sending Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
