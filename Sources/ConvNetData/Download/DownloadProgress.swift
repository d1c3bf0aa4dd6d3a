import ConvNetCore
import Dispatch
import Foundation

/// A download's progress on standard error: a live bar on a terminal
/// (`train-images-idx3-ubyte.gz  42% ━━━━━━━━──────────── 11.1/26.4 MB  5.2 MB/s`), or one line per
/// file otherwise (`Downloading URL ... done, 26.4 MB in 3.1 s`).
struct DownloadProgressLine: Sendable {
    let label: String
    let source: String
    let live: Bool
    let enabled: Bool
    var expectedBytes: Int?
    private var startTime: UInt64 = 0
    private var lastDraw: UInt64 = 0

    init(label: String, source: String, style: DownloadOptions.Progress) {
        self.label = label
        self.source = source
        enabled = style != .silent
        live = style == .auto && isatty(STDERR_FILENO) != 0
    }

    mutating func start() {
        startTime = DispatchTime.now().uptimeNanoseconds
        guard enabled else { return }
        Self.write(live ? "Downloading \(source)\n" : "Downloading \(source) ... ")
    }

    /// Redraws the bar at most ten times a second.
    mutating func update(bytes: Int) {
        guard enabled, live else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - lastDraw > 100_000_000 else { return }
        lastDraw = now
        Self.write("\r\u{1B}[K" + line(bytes: bytes, now: now))
    }

    func finish(succeeded: Bool, bytes: Int) {
        guard enabled else { return }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - startTime) / 1e9
        let summary = succeeded ? "done, \(Self.megabytes(bytes)) MB in \(String(format: "%.1f", seconds)) s" : "failed"
        Self.write(live ? "\r\u{1B}[K\(label): \(summary)\n" : summary + "\n")
    }

    private func line(bytes: Int, now: UInt64) -> String {
        let seconds = max(Double(now - startTime) / 1e9, 1e-3)
        let rate = "\(Self.megabytes(Int(Double(bytes) / seconds))) MB/s"
        guard let expected = expectedBytes, expected > 0 else {
            return "\(label)  \(Self.megabytes(bytes)) MB  \(rate)"
        }
        let fraction = min(Double(bytes) / Double(expected), 1)
        let done = Int(fraction * 20)
        return "\(label) \(String(format: "%3d", Int(fraction * 100)))% " + String(repeating: "━", count: done)
            + "\u{1B}[2m" + String(repeating: "━", count: 20 - done) + "\u{1B}[0m "
            + "\(Self.megabytes(bytes))/\(Self.megabytes(expected)) MB  \(rate)"
    }

    private static func megabytes(_ bytes: Int) -> String {
        String(format: "%.1f", Double(bytes) / 1e6)
    }

    private static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
