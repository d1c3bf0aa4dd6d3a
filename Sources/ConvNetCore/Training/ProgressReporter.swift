import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How much `fit` and `evaluate` print.
public enum Verbosity: Sendable, Equatable {
    /// A live bar on a terminal, one line per epoch otherwise (never a flood of `\r` in a log file).
    case auto
    /// Always the live bar.
    case progressBar
    /// One line per epoch.
    case epochLines
    case silent
}

/// Keras-style progress output:
/// `469/469 ━━━━━━━━━━━━━━━━━━━━ 4s 9ms/step - accuracy: 0.8745 - loss: 0.3434`.
struct ProgressReporter {
    let steps: Int
    let live: Bool
    let enabled: Bool
    let start = DispatchTime.now().uptimeNanoseconds
    var lastDraw: UInt64 = 0

    init(steps: Int, verbosity: Verbosity) {
        self.steps = steps
        enabled = verbosity != .silent
        switch verbosity {
        case .auto: live = isatty(STDOUT_FILENO) != 0
        case .progressBar: live = true
        case .epochLines, .silent: live = false
        }
    }

    /// Writes through `print` (so the text stays in order with the caller's own prints) and flushes.
    static func write(_ text: String) {
        print(text, terminator: "")
        fflush(nil)  // all streams; naming `stdout` is not concurrency-safe in Swift 6
    }

    /// Redraws the bar after `step` steps (at most ten times a second, and always on the last).
    mutating func update(step: Int, logs: [(String, Double)]) {
        guard enabled, live else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard step == steps || now - lastDraw > 100_000_000 else { return }
        lastDraw = now
        Self.write("\r\u{1B}[K" + line(step: step, logs: logs, bar: true))
    }

    /// Finishes the epoch's line with its final logs.
    func finish(logs: [(String, Double)]) {
        guard enabled else { return }
        Self.write((live ? "\r\u{1B}[K" : "") + line(step: steps, logs: logs, bar: live) + "\n")
    }

    func line(step: Int, logs: [(String, Double)], bar: Bool) -> String {
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let width = String(steps).count
        var text = String(repeating: " ", count: width - String(step).count) + "\(step)/\(steps)"
        if bar {
            let done = steps > 0 ? 20 * step / steps : 20
            text += " " + String(repeating: "━", count: done) + "\u{1B}[2m" + String(repeating: "━", count: 20 - done) + "\u{1B}[0m"
        }
        let perStep = elapsed / Double(max(step, 1))
        text += bar ? " " : " - "
        text += "\(Int(elapsed.rounded()))s \(perStep >= 1 ? "\(Int(perStep.rounded()))s" : "\(Int((perStep * 1000).rounded()))ms")/step"
        for (key, value) in logs { text += " - \(key): \(String(format: "%.4f", value))" }
        return text
    }
}
