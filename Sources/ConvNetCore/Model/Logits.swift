extension Model {
    /// The same model with its final softmax or sigmoid switched off, so that it returns the scores
    /// those functions are applied to (the logits); unchanged when the output layer has another
    /// activation. Saliency maps differentiate these scores; `convnet predict --logits` and
    /// `convnet export --logits` show and export them.
    public func withoutFinalActivation() -> Model {
        var logits = self
        let last = layers.count - 1
        if var layer = layers[last] as? any ActivatedLayer, layer.activation == .softmax || layer.activation == .sigmoid {
            layer.activation = .linear
            logits.layers[last] = layer
        }
        return logits
    }
}
