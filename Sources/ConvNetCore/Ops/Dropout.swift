/// Inverted dropout (lecture notes): each element is kept with probability `1 − rate` and scaled by
/// `1 / (1 − rate)`, so the expected activation is unchanged and inference needs no rescaling.
/// Backward multiplies by the same mask.
///
/// - Throws: `ConvNetError.argument` unless `0 ≤ rate < 1`.
public func dropout(_ x: Tensor, rate: Float, generator: inout RandomGenerator) throws -> Tensor {
    guard rate >= 0, rate < 1 else {
        throw ConvNetError.argument("dropout: rate must be in [0, 1), got \(rate)")
    }
    guard rate > 0 else { return x }
    let scale = 1 / (1 - rate)
    let mask = (0..<x.count).map { _ in generator.nextUniform() >= rate ? scale : 0 }
    let output = zip(x.scalars, mask).map { $0 * $1 }
    return record(Tensor(validShape: x.shape, scalars: output), inputs: [x]) { upstream, _ in
        [Tensor(validShape: x.shape, scalars: zip(upstream.scalars, mask).map { $0 * $1 })]
    }
}
