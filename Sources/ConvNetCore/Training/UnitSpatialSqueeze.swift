extension Tensor {
    /// `(m, 1, 1, k) → (m, k)`; any other shape is returned as it is. A fully convolutional
    /// classifier (the lecture notes' 1x1-convolution net) ends in a `(1, 1, k)` map for the input size it
    /// is trained on; Keras's losses accept it by broadcasting against `(m, k)` targets, ConvNet's by
    /// dropping the two unit axes. Differentiable (a reshape: the gradient takes the original shape back).
    func squeezingUnitSpatialAxes() throws -> Tensor {
        guard rank == 4, shape[1] == 1, shape[2] == 1 else { return self }
        return try reshaped(to: [shape[0], shape[3]])
    }
}
