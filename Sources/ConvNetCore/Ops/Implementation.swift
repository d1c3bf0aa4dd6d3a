/// Which of an op's two implementations to run. Both compute the same function; the tests prove it.
public enum Implementation: Sendable, Equatable {
    /// Loops that read like the lecture notes' `conv_forward` / `pool_forward`: the oracle.
    case reference
    /// im2col + GEMM (or Winograd) for convolution, vectorised loops for pooling and batch
    /// normalization, spread over the cores.
    case fast
}

/// Every op with two implementations dispatches the same way: beside the op, a protocol of static
/// kernel functions (`ConvolutionKernels`, `PoolingKernels`, `BatchNormKernels`, `GELUKernels`,
/// `MatrixKernels`)
/// that its reference and fast enums both conform to; the op asks `implementation` for the enum and
/// calls it, forward and backward alike.
extension Implementation {
    var convolutionKernels: any ConvolutionKernels.Type {
        self == .fast ? ConvolutionFast.self : ConvolutionReference.self
    }

    var poolingKernels: any PoolingKernels.Type {
        self == .fast ? PoolingFast.self : PoolingReference.self
    }

    var batchNormKernels: any BatchNormKernels.Type {
        self == .fast ? BatchNormalizationFast.self : BatchNormalizationReference.self
    }

    var geluKernels: any GELUKernels.Type {
        self == .fast ? GELUFast.self : GELUReference.self
    }

    var matrixKernels: any MatrixKernels.Type {
        self == .fast ? FastMatrixKernels.self : ReferenceMatrixKernels.self
    }
}
