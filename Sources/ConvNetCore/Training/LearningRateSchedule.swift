import Foundation

/// Learning-rate decay (lecture notes), as a function of `t`, the number of the epoch (or step) about to
/// run, counted from 1 as the lecture notes' `epoch_num`: the first epoch of `inverseTime(k)` runs at
/// `α₀ / (1 + k)`.
public enum LearningRateSchedule: Sendable, Equatable, Codable {
    /// `α₀` throughout.
    case constant
    /// `α = α₀ / (1 + k·t)`.
    case inverseTime(k: Float)
    /// `α = k·α₀ / √t`.
    case inverseSqrt(k: Float)
    /// `α = α₀ · e^(−k·t)`.
    case exponential(k: Float)
    /// `α = kᵗ · α₀`.
    case power(k: Float)
    /// Staircase: `α = k^⌊(t − 1) / N⌋ · α₀`, i.e. multiplied by `k` every `N` epochs.
    case staircase(k: Float, every: Int)
    /// Manual, piecewise constant: `values[i]` from epoch `boundaries[i − 1] + 1` on
    /// (`values.count == boundaries.count + 1`), as Keras's `PiecewiseConstantDecay`.
    case piecewise(boundaries: [Int], values: [Float])
    /// Cosine decay to 0 over `total` epochs: `α = α₀ · ½(1 + cos(π · (t − 1) / total))`.
    case cosine(total: Int)
    /// Piecewise linear through the points `(knots[i], values[i])` (`knots` increasing), as a
    /// function of `t − 1`, the epochs (or steps) completed before this one; constant before the
    /// first knot and after the last. Warm-up then decay: `knots: [0, 109, 476]`,
    /// `values: [0.2, 1, 0.07]` (times a base rate) is airbench's per-step schedule.
    case piecewiseLinear(knots: [Int], values: [Float])

    /// The rate for epoch (or step) `t ≥ 1` given the initial rate `α₀`.
    public func rate(at t: Int, initial a0: Float) -> Float {
        let t = max(t, 1), tf = Float(t)
        switch self {
        case .constant: return a0
        case let .inverseTime(k): return a0 / (1 + k * tf)
        case let .inverseSqrt(k): return k * a0 / tf.squareRoot()
        case let .exponential(k): return a0 * Foundation.exp(-k * tf)
        case let .power(k): return Foundation.pow(k, tf) * a0
        case let .staircase(k, every): return Foundation.pow(k, Float((t - 1) / max(every, 1))) * a0
        case let .piecewise(boundaries, values):
            let index = boundaries.firstIndex(where: { t <= $0 }) ?? boundaries.count
            return index < values.count ? values[index] : a0
        case let .cosine(total): return a0 * 0.5 * (1 + Foundation.cos(Float.pi * Float(min(t - 1, total)) / Float(max(total, 1))))
        case let .piecewiseLinear(knots, values):
            guard let first = knots.first, let last = knots.last, knots.count == values.count else { return a0 }
            let x = t - 1
            if x <= first { return values[0] }
            if x >= last { return values[values.count - 1] }
            let segment = knots.lastIndex { $0 <= x } ?? 0
            let fraction = Float(x - knots[segment]) / Float(knots[segment + 1] - knots[segment])
            return values[segment] * (1 - fraction) + values[segment + 1] * fraction
        }
    }

    /// Parses the command line's form `NAME[:ARG[:ARG]]` through `LearningRateScheduleRegistry`
    /// (`inverse-time:0.1`, `cosine`, `piecewise:2,4:1,0.5,0.1`, ...); `epochs` is the run's length,
    /// which some schedules default to. An unknown name throws, listing the known forms.
    public init(parsing text: String, epochs: Int) throws {
        let arguments = LearningRateScheduleRegistry.Arguments(text: text, epochs: epochs)
        guard let entry = LearningRateScheduleRegistry.registry.entryIfKnown(arguments.name) else {
            throw ConvNetError.argument("--schedule \(text): unknown learning-rate schedule '\(arguments.name)'; known: \(LearningRateScheduleRegistry.usages.joined(separator: ", "))")
        }
        self = try entry.parse(arguments)
    }
}

/// The learning-rate schedules known by name on the command line (`--schedule inverse-time:0.1`):
/// each registered once with its usage and parser; users add names for their own settings.
/// Thread-safe.
public enum LearningRateScheduleRegistry {
    /// The parts of `NAME:ARG:ARG`, with readers that throw one-line errors naming the text.
    public struct Arguments: Sendable {
        /// The whole text, e.g. `step:0.5:10`.
        public let text: String
        /// The text split at `:`; the first part is the name.
        public let parts: [String]
        /// The run's number of epochs.
        public let epochs: Int

        /// Splits `text` at `:`.
        public init(text: String, epochs: Int) {
            self.text = text
            self.parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            self.epochs = epochs
        }

        /// The schedule's name, the first part.
        public var name: String { parts.first ?? "" }
        /// Whether part `index` is given.
        public func has(_ index: Int) -> Bool { index < parts.count }

        /// Part `index` as a finite number (`nan` and `inf` are refused: no rate follows from them).
        public func number(_ index: Int) throws -> Float {
            guard index < parts.count, let value = Float(parts[index]) else {
                throw ConvNetError.argument("--schedule \(text): expected a number after '\(name):'")
            }
            guard value.isFinite else {
                throw ConvNetError.argument("--schedule \(text): '\(parts[index])' is not a finite number")
            }
            return value
        }

        /// Part `index` as a count of epochs or steps, a whole number in `1...1_000_000_000`
        /// (converting `1e30` or `nan` to `Int` would trap).
        public func count(_ index: Int) throws -> Int {
            let value = try number(index)
            guard value >= 1, value <= 1e9, value.rounded() == value else {
                throw ConvNetError.argument("--schedule \(text): '\(parts[index])' should be a whole number of epochs from 1 to 1000000000")
            }
            return Int(value)
        }

        /// Part `index` as a comma-separated list.
        public func list<T>(_ index: Int, _ convert: (Substring) -> T?) throws -> [T] {
            guard index < parts.count else { throw ConvNetError.argument("--schedule \(text): missing list") }
            let values = parts[index].split(separator: ",").map(convert)
            guard values.allSatisfy({ $0 != nil }) else { throw ConvNetError.argument("--schedule \(text): bad list '\(parts[index])'") }
            return values.compactMap { $0 }
        }
    }

    /// Makes a schedule from its arguments.
    public typealias Parser = @Sendable (Arguments) throws -> LearningRateSchedule

    /// A registered name: its usage for help texts (nil for an alias) and its parser.
    struct Entry: Sendable {
        let usage: String?
        let parse: Parser

        /// The name in `usage`: the part before `:` or `[`.
        var name: String { String((usage ?? "").prefix { $0 != ":" && $0 != "[" }) }
    }

    /// The built-in schedules by usage; each is registered under its usage's name (the part before
    /// `:` or `[`), plus the alias `staircase` for `step`.
    static let builtIns: [Entry] = [
        Entry(usage: "constant") { _ in .constant },
        Entry(usage: "inverse-time:K") { .inverseTime(k: try $0.number(1)) },
        Entry(usage: "inverse-sqrt:K") { .inverseSqrt(k: try $0.number(1)) },
        Entry(usage: "exponential:K") { .exponential(k: try $0.number(1)) },
        Entry(usage: "power:K") { .power(k: try $0.number(1)) },
        Entry(usage: "step:K:EVERY") { .staircase(k: try $0.number(1), every: try $0.count(2)) },
        Entry(usage: "cosine[:TOTAL]") { .cosine(total: $0.has(1) ? try $0.count(1) : $0.epochs) },
        Entry(usage: "piecewise-linear:K1,K2,K3:V1,V2,V3") { arguments in
            let knots: [Int] = try arguments.list(1) { Int($0) }, values: [Float] = try arguments.list(2) { Float($0).flatMap { $0.isFinite ? $0 : nil } }
            guard !knots.isEmpty, values.count == knots.count, zip(knots, knots.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw ConvNetError.argument("--schedule \(arguments.text): piecewise-linear needs increasing knots and one value per knot")
            }
            return .piecewiseLinear(knots: knots, values: values)
        },
        Entry(usage: "piecewise:B1,B2:V1,V2,V3") { arguments in
            let boundaries: [Int] = try arguments.list(1) { Int($0) }, values: [Float] = try arguments.list(2) { Float($0).flatMap { $0.isFinite ? $0 : nil } }
            guard values.count == boundaries.count + 1 else {
                throw ConvNetError.argument("--schedule \(arguments.text): piecewise needs one more value than boundaries")
            }
            return .piecewise(boundaries: boundaries, values: values)
        },
    ]

    static let registry: Registry<Entry> = {
        let entries = builtIns.map { (name: $0.name, entry: $0) }
        let step = entries.first { $0.entry.usage?.hasPrefix("step:") == true }
        return Registry(kind: "learning-rate schedule", builtIns: entries + (step.map { [("staircase", Entry(usage: nil, parse: $0.entry.parse))] } ?? []))
    }()

    /// Makes `--schedule NAME[:...]` parse with `parse`; `usage` (e.g. `warmup:EPOCHS`) is listed in
    /// help texts and errors.
    public static func register(name: String, usage: String, _ parse: @escaping Parser) {
        registry.register([name], Entry(usage: usage, parse: parse))
    }

    /// The usage of each registered schedule, e.g. `inverse-time:K` (aliases left out).
    public static var usages: [String] { registry.names.compactMap { registry.entryIfKnown($0)?.usage } }
}
