import ConvNet
import Dispatch
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `ConvNetRuntime.configure` and the library's defaults: what they change in the host process,
/// and the contract for several threads calling ConvNet at once.
///
/// What merely using the library does to a process can only be seen in a fresh one (other tests
/// here may have configured or loaded OpenBLAS already), so those tests run this test binary again
/// with `CONVNET_BACKEND_SCENARIO` naming one scenario, which then runs alone in the child.
@Suite struct BackendConfigurationTests {
    static let scenarioVariable = "CONVNET_BACKEND_SCENARIO"

    /// The scenario this process runs, when it is such a child.
    static var scenario: String? { ProcessInfo.processInfo.environment[scenarioVariable] }

    /// Runs `executable` with `arguments` and `environment` (OpenBLAS's and ConvNet's kernel
    /// variables removed unless given); returns its exit status and its output and errors together.
    static func run(_ executable: String, _ arguments: [String], environment extra: [String: String]) throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment
        for name in ["OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "CONVNET_OPENBLAS_CORETYPE"] { environment[name] = nil }
        environment.merge(extra) { $1 }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    /// Runs test `testName` alone in a child test process, as `scenario`, and expects it to pass.
    func expectChildPasses(_ scenario: String, testName: String, environment: [String: String] = [:],
                           sourceLocation: SourceLocation = #_sourceLocation) throws {
        let child = try Self.run(CommandLine.arguments[0], ["--testing-library", "swift-testing", "--filter", testName],
                                 environment: environment.merging([Self.scenarioVariable: scenario]) { $1 })
        #expect(child.status == 0, "scenario \(scenario) failed:\n\(child.output)", sourceLocation: sourceLocation)
        // A filter that matched nothing would pass vacuously: the child must have run the test.
        #expect(child.output.contains("\(testName)() passed"), "scenario \(scenario) did not run:\n\(child.output)",
                sourceLocation: sourceLocation)
    }

    /// A fresh process that trains nothing but GEMMs, without `configure`: no environment variable
    /// set, `malloc` untouched, and OpenBLAS single-threaded anyway (through
    /// `openblas_set_num_threads`). A later `configure` reports that OpenBLAS's kernel is fixed.
    @Test func usingTheLibraryChangesNoProcessSettings() throws {
        guard let scenario = Self.scenario else {
            return try expectChildPasses("defaults", testName: "usingTheLibraryChangesNoProcessSettings")
        }
        guard scenario == "defaults" else { return }
        _ = Self.multiplyLarge()
        #expect(getenv("OPENBLAS_NUM_THREADS") == nil)
        #expect(getenv("OPENBLAS_CORETYPE") == nil)
        #expect(Self.openBLASThreads() == 1)
        if let mapped = Self.largeAllocationIsMapped() { #expect(mapped, "malloc serves 8 MiB from the heap: it was retuned") }

        let late = ConvNetRuntime.configure(RuntimeOptions(tuneAllocator: false))
        #expect(late.openBLASWasAlreadyLoaded)
        #expect(late.environment.isEmpty)
        #expect(getenv("OPENBLAS_NUM_THREADS") == nil)
    }

    /// `configure` before the first GEMM sets exactly the documented variables, the thread count
    /// and the allocator, and OpenBLAS then loads the kernel it asked for.
    @Test func configureBeforeFirstGEMMSetsTheDocumentedSettings() throws {
        guard let scenario = Self.scenario else {
            return try expectChildPasses("configure", testName: "configureBeforeFirstGEMMSetsTheDocumentedSettings",
                                         environment: ["CONVNET_OPENBLAS_CORETYPE": "Haswell"])
        }
        guard scenario == "configure" else { return }
        let result = ConvNetRuntime.configure(RuntimeOptions(threads: 3))
        #expect(result.threads == 3 && Parallel.threads == 3)
        #expect(!result.openBLASWasAlreadyLoaded)
        #expect(result.environment == ["OPENBLAS_NUM_THREADS": "1", "OPENBLAS_CORETYPE": "Haswell"])
        #expect(getenv("OPENBLAS_NUM_THREADS").map { String(cString: $0) } == "1")
        #expect(getenv("OPENBLAS_CORETYPE").map { String(cString: $0) } == "Haswell")
        #expect(result.allocatorTuned)
        if let mapped = Self.largeAllocationIsMapped() { #expect(!mapped, "malloc still maps 8 MiB blocks: mallopt did not apply") }

        #expect(Self.multiplyLarge())
        #expect(GEMM.backendDescription.contains("kernel Haswell"), "\(GEMM.backendDescription)")
        #expect(Self.openBLASThreads() == 1)
        let again = ConvNetRuntime.configure(RuntimeOptions(threads: 2, openBLASCoreType: .named("SkylakeX"), tuneAllocator: false))
        #expect(again.openBLASWasAlreadyLoaded && again.environment.isEmpty && !again.allocatorTuned)
        #expect(getenv("OPENBLAS_CORETYPE").map { String(cString: $0) } == "Haswell")
        #expect(Parallel.threads == 2)
    }

    /// `.openBLASDefault` leaves `OPENBLAS_CORETYPE` alone; `.named("")` too.
    @Test func openBLASDefaultSetsNoKernel() throws {
        guard let scenario = Self.scenario else {
            return try expectChildPasses("default-kernel", testName: "openBLASDefaultSetsNoKernel",
                                         environment: ["CONVNET_OPENBLAS_CORETYPE": "Haswell"])
        }
        guard scenario == "default-kernel" else { return }
        let result = ConvNetRuntime.configure(RuntimeOptions(openBLASCoreType: .named(""), tuneAllocator: false))
        #expect(result.environment == ["OPENBLAS_NUM_THREADS": "1"])
        #expect(getenv("OPENBLAS_CORETYPE") == nil)
        #expect(ConvNetRuntime.configure(RuntimeOptions(openBLASCoreType: .openBLASDefault)).environment == ["OPENBLAS_NUM_THREADS": "1"])
        #expect(!GEMM.backendDescription.contains("kernel Haswell"), "\(GEMM.backendDescription)")
    }

    /// The `convnet` tool configures before its first GEMM: `CONVNET_OPENBLAS_CORETYPE` reaches
    /// OpenBLAS, and on AVX-512 CPUs the automatic choice is SkylakeX.
    @Test func commandLineConfiguresAtStartup() throws {
        guard Self.scenario == nil else { return }
        let bench = ["bench", "gemm", "--size", "64", "--repeats", "1", "--json"]
        let chosen = try Self.run(CommandLineTests.binary, bench, environment: ["CONVNET_OPENBLAS_CORETYPE": "Haswell"])
        // JSON: `bench gemm`'s own flags reach it (they were once taken by `bench`).
        #expect(chosen.status == 0 && chosen.output.hasPrefix("{") && chosen.output.contains("kernel Haswell"), "\(chosen.output)")
        let avx512 = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(Self.cpuFlags.contains)
        if avx512 {
            let automatic = try Self.run(CommandLineTests.binary, bench, environment: [:])
            #expect(automatic.status == 0 && automatic.output.contains("kernel SkylakeX"), "\(automatic.output)")
        }
    }

    /// Two threads training and predicting at once (one of them gets the pool, the other runs its
    /// regions on its own thread) end with weights and predictions bit-identical to running the
    /// two jobs one after the other.
    @Test func concurrentTrainingMatchesSequential() throws {
        guard Self.scenario == nil else { return }
        struct Outcome: Equatable, Sendable {
            let weights: [Tensor]
            let predictions: Tensor
        }
        @Sendable func job(seed: UInt64) throws -> Outcome {
            var model = try ModelZoo.model(named: "lenet5", seed: seed)
            model.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(), metrics: [])
            var context = ForwardContext(training: true)
            for step in 0..<3 {
                let batch = Batch(inputs: Self.random([64, 28, 28, 1], seed: seed * 10 + UInt64(step)),
                                  labels: (0..<64).map { ($0 * 3 + step) % 10 })
                _ = try model.trainOnBatch(batch, context: &context)
            }
            return Outcome(weights: model.trainableWeights, predictions: try model.predict(Self.random([32, 28, 28, 1], seed: seed)))
        }
        let seeds: [UInt64] = [11, 12]
        let sequential = try seeds.map { try job(seed: $0) }
        // Two threads of our own (a dispatch queue might run both jobs on one thread), which wait
        // for each other before starting, so that their regions overlap.
        let concurrent = Locked<[Int: Outcome]>([:])
        let ready = Atomic<Int>(0)
        let finished = DispatchGroup()
        for index in seeds.indices {
            finished.enter()
            Thread {
                ready.add(1, ordering: .sequentiallyConsistent)
                while ready.load(ordering: .sequentiallyConsistent) < seeds.count { sched_yield() }
                if let outcome = try? job(seed: seeds[index]) { concurrent.withLock { $0[index] = outcome } }
                finished.leave()
            }.start()
        }
        finished.wait()
        let results = concurrent.withLock { $0 }
        for index in seeds.indices {
            #expect(results[index] == sequential[index], "job \(index) differs from its sequential run")
        }
    }

    /// `Locked` (the project's lock) serialises its callers: 8 threads x 20,000 read-modify-write
    /// increments lose none. Under ThreadSanitizer (scripts/sanitizers.sh thread) this is also the
    /// check that TSan sees the lock: `Synchronization.Mutex` reports a race on the same test.
    @Test func lockedSerialisesConcurrentUpdates() {
        let counter = Locked<[Int]>([0])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<20_000 { counter.withLock { $0[0] += 1 } }
        }
        #expect(counter.withLock { $0[0] } == 160_000)
    }

    // MARK: - Probes

    static func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor.randomUniform(shape: shape, low: -1, high: 1, generator: &generator)
    }

    /// One threaded 256³ GEMM (this loads OpenBLAS); true when it matches the reference loops.
    static func multiplyLarge() -> Bool {
        let n = 256
        let a = random([n * n], seed: 1).scalars, b = random([n * n], seed: 2).scalars
        var fast = [Float](repeating: 0, count: n * n), reference = fast
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                fast.withUnsafeMutableBufferPointer { c in
                    GEMM.multiply(m: n, n: n, k: n, a: a.baseAddress!, lda: n, b: b.baseAddress!, ldb: n, c: c.baseAddress!, ldc: n)
                }
                reference.withUnsafeMutableBufferPointer { c in
                    GEMM.reference(m: n, n: n, k: n, a: a.baseAddress!, lda: n, b: b.baseAddress!, ldb: n, c: c.baseAddress!, ldc: n)
                }
            }
        }
        return allClose(fast, reference, absolute: 1e-3, relative: 1e-4)
    }

    /// OpenBLAS's own thread count, as `openblas_get_num_threads` reports it (nil if not loaded).
    static func openBLASThreads() -> Int? {
        typealias GetThreads = @convention(c) () -> Int32
        guard let symbol = dlsym(nil, "openblas_get_num_threads") else { return nil }
        return Int(unsafeBitCast(symbol, to: GetThreads.self)())
    }

    /// Whether glibc serves an 8 MiB block with its own `mmap` (its default; `configure`'s tuning
    /// serves it from the heap). A mapped chunk is rounded up to whole pages, a heap chunk to 16
    /// bytes, which `malloc_usable_size` shows. Nil when glibc's `malloc` is not the one in use
    /// (off glibc, or under ThreadSanitizer, whose allocator replaces it). Call it once per
    /// process: freeing a mapped block raises glibc's threshold.
    static func largeAllocationIsMapped() -> Bool? {
        typealias UsableSize = @convention(c) (UnsafeMutableRawPointer?) -> Int
        guard dlsym(nil, "__tsan_init") == nil, let symbol = dlsym(nil, "malloc_usable_size") else { return nil }
        let size = 8 << 20
        guard let block = malloc(size) else { return nil }
        defer { free(block) }
        return unsafeBitCast(symbol, to: UsableSize.self)(block) - size >= 1024
    }

    static let cpuFlags: Set<String> = {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        return Set(line.split(separator: " ").map(String.init))
    }()
}
