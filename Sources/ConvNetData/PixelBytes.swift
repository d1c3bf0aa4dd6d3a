import ConvNetCore
/// The byte that stores a pixel value: rounded to the nearest integer (halves away from zero) and
/// clamped to `0...255`; NaN becomes 0. Writers of 8-bit formats (IDX, PNG, JPEG) use it.
@inline(__always)
func pixelByte(_ value: Float) -> UInt8 {
    guard !value.isNaN else { return 0 }
    return UInt8(Swift.min(Swift.max(value.rounded(), 0), 255))
}

/// Raw 8-bit samples as `Float` pixel values `0...255`.
func pixelValues(_ bytes: some Collection<UInt8>) -> [Float] {
    bytes.map(Float.init)
}
