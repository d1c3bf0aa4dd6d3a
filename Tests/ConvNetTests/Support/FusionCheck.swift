import ConvNet

/// Whether `Model.forward`'s fused runs of layers (`LayerFusion`) change anything but speed: one
/// forward and backward pass of `model` on `x`, returning the output, the input gradient of `Σ y²`
/// and every layer's non-trainable weights afterwards (the moving statistics). Asking for a layer's
/// output (`outputs`) stops the run it would end inside from fusing, so the same pass with and
/// without such `outputs` compares the fused ops against the layers one by one.
func forwardAndBackward(_ model: Model, _ x: Tensor, training: Bool, outputs: Set<Int>) throws -> [[Float]] {
    var copy = model, context = ForwardContext(training: training)
    let tape = GradientTape()
    let watched = tape.watch(x)
    let y = try copy.forward(watched, context: &context, outputs: outputs).output
    let dx = try tape.gradient(of: (y * y).sum(), withRespectTo: [watched])[0]
    return [y.scalars, dx.scalars] + copy.layers.flatMap(\.nonTrainableWeights).map(\.scalars)
}
