import Foundation

/// Learning-rate decay (deck 001), as a function of `t`, the number of the epoch (or step) about to
/// run, counted from 1 as the deck's `epoch_num`: the first epoch of `inverseTime(k)` runs at
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
        }
    }

    /// Parses the command line's forms: `inverse-time:K`, `inverse-sqrt:K`, `exponential:K`,
    /// `power:K`, `step:K:EVERY`, `cosine[:TOTAL]`, `piecewise:B1,B2:V1,V2,V3`, `constant`.
    public init(parsing text: String, epochs: Int) throws {
        let parts = text.split(separator: ":").map(String.init)
        func number(_ index: Int) throws -> Float {
            guard index < parts.count, let value = Float(parts[index]) else {
                throw ConvNetError.argument("--schedule \(text): expected a number after '\(parts[0]):'")
            }
            return value
        }
        func list<T>(_ index: Int, _ convert: (Substring) -> T?) throws -> [T] {
            guard index < parts.count else { throw ConvNetError.argument("--schedule \(text): missing list") }
            let values = parts[index].split(separator: ",").map(convert)
            guard values.allSatisfy({ $0 != nil }) else { throw ConvNetError.argument("--schedule \(text): bad list '\(parts[index])'") }
            return values.compactMap { $0 }
        }
        switch parts.first ?? "" {
        case "constant": self = .constant
        case "inverse-time": self = .inverseTime(k: try number(1))
        case "inverse-sqrt": self = .inverseSqrt(k: try number(1))
        case "exponential": self = .exponential(k: try number(1))
        case "power": self = .power(k: try number(1))
        case "step", "staircase": self = .staircase(k: try number(1), every: Int(try number(2)))
        case "cosine": self = .cosine(total: parts.count > 1 ? Int(try number(1)) : epochs)
        case "piecewise":
            let boundaries: [Int] = try list(1) { Int($0) }, values: [Float] = try list(2) { Float($0) }
            guard values.count == boundaries.count + 1 else {
                throw ConvNetError.argument("--schedule \(text): piecewise needs one more value than boundaries")
            }
            self = .piecewise(boundaries: boundaries, values: values)
        default:
            throw ConvNetError.argument("--schedule \(text): expected one of inverse-time:K, inverse-sqrt:K, exponential:K, power:K, step:K:EVERY, cosine, piecewise:B1,B2:V1,V2,V3")
        }
    }
}
