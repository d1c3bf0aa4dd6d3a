import Foundation

/// What the CPU can do, as the operating system reports it: the one place ConvNet asks.
enum CPUFeatures {
    /// The feature flags the Linux kernel reports (and has enabled) for this CPU, e.g. `avx512f`,
    /// `avx512_bf16`; empty elsewhere (Apple platforms use Accelerate, which picks its own kernels).
    static let flags: Set<String> = {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }()
}
