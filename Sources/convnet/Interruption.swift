import ConvNet
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ctrl-C during training: the first SIGINT asks `fit` to stop at the next batch boundary (see
/// `TrainCommand`), so that no file is left half-written; a second one exits at once with 130.
enum Interruption {
    /// How many SIGINTs arrived. Atomic, so the signal handler may touch it.
    private static let count = Atomic<Int>(0)

    /// The exit status of a process stopped by SIGINT (128 + 2), as shells report it.
    static let exitStatus: Int32 = 130

    /// Whether Ctrl-C was pressed since `install()`.
    static var requested: Bool { count.load(ordering: .relaxed) > 0 }

    /// Installs the SIGINT handler.
    static func install() {
        _ = requested  // initialises the counter before the handler can run
        // A parent may have blocked SIGINT (the mask is inherited); this thread must receive it.
        var interrupt = sigset_t()
        sigemptyset(&interrupt)
        sigaddset(&interrupt, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &interrupt, nil)
        signal(SIGINT) { _ in
            if Interruption.count.add(1, ordering: .relaxed).oldValue > 0 { _exit(130) }
        }
    }
}
