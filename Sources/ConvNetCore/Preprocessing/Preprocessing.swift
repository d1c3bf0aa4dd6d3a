/// How raw pixels (0...255) become model inputs. Stored with a saved model so `predict` scales new
/// images exactly as training did.
public enum Preprocessing: Sendable, Equatable, Codable {
    /// Inputs used as they are.
    case none
    /// `x / 255` (Keras's usual scaling).
    case unitRange
    /// `x / 255 − 0.5` (lecture notes).
    case centeredUnitRange
    /// `(x − mean_c) / std_c` per channel, with statistics of the training set.
    case standardize(mean: [Float], standardDeviation: [Float])

    /// Applies the transformation to images `(..., channels)` of raw pixels.
    public func apply(_ pixels: Tensor) throws -> Tensor {
        switch self {
        case .none: return pixels
        case .unitRange: return pixels.scaledToUnitRange()
        case .centeredUnitRange: return pixels.scaledToCenteredUnitRange()
        case let .standardize(mean, deviation):
            return try ChannelStatistics(mean: mean, standardDeviation: deviation).normalize(pixels)
        }
    }
}
