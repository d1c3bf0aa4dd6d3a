import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How much `fit` and `evaluate` print.
public enum Verbosity: Sendable, Equatable {
    /// A live bar on a terminal, one line per epoch otherwise (never a flood of `\r` in a log file),
    /// plus a progress line every `ProgressReporter.logInterval` seconds during a long epoch.
    case auto
    /// Always the live bar.
    case progressBar
    /// One line per epoch, plus a progress line every `ProgressReporter.logInterval` seconds.
    case epochLines
    case silent
}

/// Keras-style progress output. On a terminal a live bar,
/// `120/469 ━━━━━━━━━━━━━━━━━━━━ ETA 3s - 7890 img/s - accuracy: 0.8745 - loss: 0.3434`,
/// which ends as `469/469 ━━━━━━━━━━━━━━━━━━━━ 4s 9ms/step - 7890 img/s - accuracy: ...`.
/// In a log file, one such line without the bar every `logInterval` seconds, and the epoch's line.
struct ProgressReporter {
    /// The environment variable that sets the seconds between progress lines in a log file.
    static let intervalVariable = "CONVNET_PROGRESS_INTERVAL"

    /// Seconds between progress lines when the output is not a terminal: `$CONVNET_PROGRESS_INTERVAL`
    /// when it is a positive number, else 30.
    static var logInterval: Double {
        ProcessInfo.processInfo.environment[intervalVariable].flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil } ?? 30
    }

    let steps: Int
    let live: Bool
    let enabled: Bool
    let interval: UInt64
    let start = DispatchTime.now().uptimeNanoseconds
    var lastDraw: UInt64
    /// When the last step ended: images per second and time per step leave out the validation.
    var lastStep: UInt64

    init(steps: Int, verbosity: Verbosity) {
        self.steps = steps
        enabled = verbosity != .silent
        switch verbosity {
        case .auto: live = isatty(STDOUT_FILENO) != 0
        case .progressBar: live = true
        case .epochLines, .silent: live = false
        }
        interval = live ? 100_000_000 : UInt64(Self.logInterval * 1e9)
        lastDraw = start
        lastStep = start
    }

    /// Writes through `print` (so the text stays in order with the caller's own prints) and flushes.
    static func write(_ text: String) {
        print(text, terminator: "")
        fflush(nil)  // all streams; naming `stdout` is not concurrency-safe in Swift 6
    }

    /// After `step` steps and `samples` images: redraws the bar (at most ten times a second), or
    /// in a log writes a progress line when `interval` has passed since the last one.
    mutating func update(step: Int, samples: Int, logs: [(String, Double)]) {
        let now = DispatchTime.now().uptimeNanoseconds
        lastStep = now
        guard enabled, step < steps else { return }
        guard now - lastDraw >= interval else { return }
        lastDraw = now
        Self.write(live ? "\r\u{1B}[K" + line(step: step, samples: samples, logs: logs)
                        : line(step: step, samples: samples, logs: logs) + "\n")
    }

    /// Finishes the epoch's line with its final logs.
    func finish(samples: Int, logs: [(String, Double)]) {
        guard enabled else { return }
        Self.write((live ? "\r\u{1B}[K" : "") + line(step: steps, samples: samples, logs: logs) + "\n")
    }

    /// Ends a live bar's line early (training stopped mid-epoch), so that what follows starts on its own line.
    func abandon() {
        if enabled, live { Self.write("\n") }
    }

    func line(step: Int, samples: Int, logs: [(String, Double)]) -> String {
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let training = step < steps ? elapsed : Double(lastStep - start) / 1e9
        let width = String(steps).count
        var text = String(repeating: " ", count: width - String(step).count) + "\(step)/\(steps)"
        if live {
            let done = steps > 0 ? 20 * step / steps : 20
            text += " " + String(repeating: "━", count: done) + "\u{1B}[2m" + String(repeating: "━", count: 20 - done) + "\u{1B}[0m "
        } else {
            text += " - "
        }
        if step < steps {
            let remaining = elapsed / Double(max(step, 1)) * Double(steps - step)
            text += "ETA " + Self.duration(remaining)
        } else {
            let perStep = training / Double(max(step, 1))
            text += "\(Int(elapsed.rounded()))s \(perStep >= 1 ? "\(Int(perStep.rounded()))s" : "\(Int((perStep * 1000).rounded()))ms")/step"
        }
        if training > 0 { text += " - \(Int((Double(samples) / training).rounded())) img/s" }
        for (key, value) in logs { text += " - \(key): \(String(format: "%.4f", value))" }
        return text
    }

    /// `42s`, `3:07`, `1:02:03`.
    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total < 60 { return "\(total)s" }
        let (hours, minutes, rest) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, rest) : String(format: "%d:%02d", minutes, rest)
    }
}
