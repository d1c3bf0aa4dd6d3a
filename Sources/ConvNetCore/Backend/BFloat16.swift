/// bfloat16: the upper half of an IEEE float32 (1 sign bit, 8 exponent bits, 7 mantissa bits).
///
/// It keeps float32's range and about 2–3 significant decimal digits (relative spacing 2⁻⁷, so a
/// rounding error of at most 2⁻⁸ ≈ 0.39%). GEMM's bfloat16 mode (`ComputePrecision.bfloat16`)
/// rounds both operands to it and multiplies with float32 accumulation: products of two bfloat16
/// values are exact in float32, so only the rounding of the inputs and of the running sums count.
package enum BFloat16 {
    /// `x` rounded to the nearest bfloat16, ties to even, as its 16 bits: the float32 bits plus
    /// `0x7FFF` plus the lowest kept bit, shifted right by 16. An infinity stays infinite, a value
    /// above the largest bfloat16 (≈ 3.39e38) rounds to infinity as in IEEE, a NaN stays a (quiet) NaN.
    package static func round(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }

    /// The float32 a bfloat16 stands for (exact: the low 16 bits are zero).
    package static func float(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// The reference: `rows × columns` floats of `source` (row stride `stride`) rounded one by one
    /// into `destination`, packed (row stride `columns`).
    package static func roundReference(_ source: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int,
                               into destination: UnsafeMutablePointer<UInt16>) {
        for row in 0..<rows {
            for column in 0..<columns { destination[row * columns + column] = round(source[row * stride + column]) }
        }
    }

    /// The same rounding without a branch, a form the compiler vectorises (16 lanes with AVX-512;
    /// bit-identical to `roundReference`, the tests check). Swift's `SIMD16` with a masked
    /// `replace` compiled to scalar code here and was 6x slower.
    package static func round(_ source: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int,
                      into destination: UnsafeMutablePointer<UInt16>) {
        for row in 0..<rows {
            let input = UnsafeRawPointer(source + row * stride).assumingMemoryBound(to: UInt32.self)
            let output = destination + row * columns
            for column in 0..<columns {
                let bits = input[column]
                let nearest = (bits &+ 0x7FFF &+ ((bits &>> 16) & 1)) &>> 16
                let quietNaN = (bits &>> 16) | 0x0040
                output[column] = UInt16(truncatingIfNeeded: (bits & 0x7FFF_FFFF) > 0x7F80_0000 ? quietNaN : nearest)
            }
        }
    }
}
